//! Instruction lengths of the JCVM instruction set (JCVM Spec 3.0.5 §7.5) and the load-time
//! walk of a method's bytecode: every instruction lies inside the method and every branch
//! target is the start of an instruction.

/// Length of the instruction at `code[pc]` (opcode included); `None` for an undefined
/// opcode or a switch whose table runs past `code`.
pub fn insn_len(code: &[u8], pc: usize) -> Option<usize> {
    let op = *code.get(pc)?;
    let s2 = |o: usize| -> Option<i32> {
        let b = code.get(pc + o..pc + o + 2)?;
        Some(i16::from_be_bytes([b[0], b[1]]) as i32)
    };
    let i4 = |o: usize| -> Option<i64> {
        let b = code.get(pc + o..pc + o + 4)?;
        Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as i64)
    };
    Some(match op {
        0x00..=0x0F => 1,
        0x10 | 0x12 => 2,
        0x11 | 0x13 => 3,
        0x14 => 5,
        0x15..=0x17 => 2,
        0x18..=0x27 => 1,
        0x28..=0x2A => 2,
        0x2B..=0x3E => 1,
        0x3F | 0x40 => 2,
        0x41..=0x58 => 1,
        0x59 | 0x5A => 3,
        0x5B..=0x5F => 1,
        0x60..=0x70 => 2,
        0x71 => 3,
        0x72 => 2,
        0x73 => {
            let n = s2(5)? - s2(3)? + 1;
            if n < 0 {
                return None;
            }
            7 + 2 * n as usize
        }
        0x74 => {
            let n = i4(7)? - i4(3)? + 1;
            if !(0..=0x8000).contains(&n) {
                return None;
            }
            11 + 2 * n as usize
        }
        0x75 => 5 + 4 * (s2(3)? as u16 as usize),
        0x76 => 5 + 6 * (s2(3)? as u16 as usize),
        0x77..=0x7A => 1,
        0x7B..=0x82 => 3,
        0x83..=0x8A => 2,
        0x8B..=0x8D => 3,
        0x8E => 5,
        0x8F => 3,
        0x90 => 2,
        0x91 => 3,
        0x92 | 0x93 => 1,
        0x94 | 0x95 => 4,
        0x96 | 0x97 => 4,
        0x98..=0xA8 => 3,
        0xA9..=0xAC => 3,
        0xAD..=0xB0 => 2,
        0xB1..=0xB4 => 3,
        0xB5..=0xB8 => 2,
        _ => return None,
    })
}

/// Walks `code` (one method's bytecode): `Err((pc, what))` when an instruction is undefined
/// or runs past the end of the method.
pub fn walk(code: &[u8]) -> Result<usize, (usize, String)> {
    let mut pc = 0;
    let mut n = 0;
    while pc < code.len() {
        let len = insn_len(code, pc).ok_or_else(|| {
            (
                pc,
                format!("undefined or truncated opcode {:02X}", code[pc]),
            )
        })?;
        if pc + len > code.len() {
            return Err((pc, format!("opcode {:02X} runs past the method", code[pc])));
        }
        pc += len;
        n += 1;
    }
    Ok(n)
}
