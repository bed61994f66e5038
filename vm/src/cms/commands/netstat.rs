//! `NETSTAT [CONN | ALLCONN]`: the TCP/IP stack's connections and listening ports, the same
//! report the TCPIP machine sends for `SMSG TCPIP NETSTAT`.

use crate::{
    cms::CmsEnv,
    grammar::Cursor,
    tcp::{netstat_error, netstat_lines, netstat_operands},
};

/// Shows the report; 24 for a bad operand, 36 when the stack is not running.
pub fn run(env: &mut CmsEnv<'_>, c: &mut Cursor<'_>) -> i32 {
    if let Err(line) = netstat_operands(c.remaining()) {
        env.say(&line);
        return 24;
    }
    match env.vm.tcp_netstat() {
        Ok((conns, listeners)) => {
            for l in netstat_lines(&conns, &listeners) {
                env.say(&l);
            }
            0
        }
        Err(e) => {
            env.say(&netstat_error(&e));
            36
        }
    }
}
