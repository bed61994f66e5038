//! Big-endian field encoding for the mailstore's records (the folder list and folder indexes are
//! SFS files of variable-length records; each record is one of these byte strings).

/// Builds one record.
#[derive(Debug, Default)]
pub struct Rec(pub Vec<u8>);

impl Rec {
    /// A record starting with a one-byte kind.
    pub fn kind(k: u8) -> Rec {
        Rec(vec![k])
    }

    /// A byte.
    pub fn u8(mut self, v: u8) -> Rec {
        self.0.push(v);
        self
    }

    /// A 16-bit number.
    pub fn u16(mut self, v: u16) -> Rec {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A 32-bit number.
    pub fn u32(mut self, v: u32) -> Rec {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A 64-bit number.
    pub fn u64(mut self, v: u64) -> Rec {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A signed 64-bit number.
    pub fn i64(mut self, v: i64) -> Rec {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A string: 16-bit length and the bytes.
    pub fn str(mut self, s: &str) -> Rec {
        let b = s.as_bytes();
        let n = b.len().min(u16::MAX as usize);
        self.0.extend_from_slice(&(n as u16).to_be_bytes());
        self.0.extend_from_slice(&b[..n]);
        self
    }

    /// Raw bytes.
    pub fn bytes(mut self, b: &[u8]) -> Rec {
        self.0.extend_from_slice(b);
        self
    }

    /// The record.
    pub fn done(self) -> Vec<u8> {
        self.0
    }
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad(pub String);

/// Reads one record's fields.
#[derive(Debug)]
pub struct Fields<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    /// Reads `b`.
    pub fn new(b: &'a [u8]) -> Fields<'a> {
        Fields { b, at: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Bad> {
        if self.b.len() - self.at < n {
            return Err(Bad(format!(
                "record of {} bytes ends inside a field at offset {}",
                self.b.len(),
                self.at
            )));
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    /// A byte.
    pub fn u8(&mut self) -> Result<u8, Bad> {
        Ok(self.take(1)?[0])
    }

    /// A 16-bit number.
    pub fn u16(&mut self) -> Result<u16, Bad> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }

    /// A 32-bit number.
    pub fn u32(&mut self) -> Result<u32, Bad> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }

    /// A 64-bit number.
    pub fn u64(&mut self) -> Result<u64, Bad> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }

    /// A signed 64-bit number.
    pub fn i64(&mut self) -> Result<i64, Bad> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }

    /// A string (16-bit length).
    pub fn str(&mut self) -> Result<String, Bad> {
        let n = self.u16()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| Bad("a name is not UTF-8".into()))
    }

    /// Raw bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Bad> {
        self.take(n)
    }

    /// Whether every byte was read.
    pub fn at_end(&self) -> bool {
        self.at == self.b.len()
    }

    /// Bytes left.
    pub fn left(&self) -> usize {
        self.b.len() - self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let r = Rec::kind(b'A')
            .u32(7)
            .u64(1 << 40)
            .i64(-5)
            .str("Sent")
            .u8(3)
            .done();
        let mut f = Fields::new(&r);
        assert_eq!(f.u8().unwrap(), b'A');
        assert_eq!(f.u32().unwrap(), 7);
        assert_eq!(f.u64().unwrap(), 1 << 40);
        assert_eq!(f.i64().unwrap(), -5);
        assert_eq!(f.str().unwrap(), "Sent");
        assert_eq!(f.u8().unwrap(), 3);
        assert!(f.at_end());
        let mut f = Fields::new(&r[..6]);
        f.u8().unwrap();
        assert!(f.u64().is_err());
    }
}
