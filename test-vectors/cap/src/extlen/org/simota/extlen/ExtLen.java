// simota test applet: extended-length APDUs (javacardx.apdu.ExtendedLength, JC 3.0.4).
// INS 30: echo the command data (all of it, received with receiveBytes in as many calls
//         as it takes) back in one response.
// INS 32: answer getIncomingLength, getOffsetCdata, setOutgoing's Ne (2 bytes each).
// INS 34: answer P1P2 bytes of pattern (i & 0xFF).
// (Not 10/12/14: with CLA 80 those are the card's TERMINAL PROFILE, FETCH, TERMINAL RESPONSE.)
package org.simota.extlen;

import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Util;
import javacardx.apdu.ExtendedLength;

public class ExtLen extends Applet implements ExtendedLength {
    private final byte[] scratch;

    private ExtLen() {
        scratch = JCSystem.makeTransientByteArray((short) 2048, JCSystem.CLEAR_ON_DESELECT);
    }

    public static void install(byte[] b, short off, byte len) {
        new ExtLen().register(b, (short) (off + 1), b[off]);
    }

    public void process(APDU apdu) {
        if (selectingApplet()) {
            return;
        }
        byte[] buf = apdu.getBuffer();
        switch (buf[ISO7816.OFFSET_INS]) {
            case 0x30: {
                short total = apdu.getIncomingLength();
                if (total > (short) 2048) {
                    ISOException.throwIt(ISO7816.SW_WRONG_LENGTH);
                }
                short off = apdu.getOffsetCdata();
                short got = apdu.setIncomingAndReceive();
                Util.arrayCopyNonAtomic(buf, off, scratch, (short) 0, got);
                while (got < total) {
                    short n = apdu.receiveBytes(off);
                    Util.arrayCopyNonAtomic(buf, off, scratch, got, n);
                    got += n;
                }
                apdu.setOutgoing();
                apdu.setOutgoingLength(total);
                apdu.sendBytesLong(scratch, (short) 0, total);
                return;
            }
            case 0x32: {
                short nc = apdu.getIncomingLength();
                short off = apdu.getOffsetCdata();
                short ne = apdu.setOutgoing();
                Util.setShort(scratch, (short) 0, nc);
                Util.setShort(scratch, (short) 2, off);
                Util.setShort(scratch, (short) 4, ne);
                apdu.setOutgoingLength((short) 6);
                apdu.sendBytesLong(scratch, (short) 0, (short) 6);
                return;
            }
            case 0x34: {
                short n = Util.getShort(buf, ISO7816.OFFSET_P1);
                if (n < 0 || n > (short) 2048) {
                    ISOException.throwIt(ISO7816.SW_WRONG_P1P2);
                }
                for (short i = 0; i < n; i++) {
                    scratch[i] = (byte) i;
                }
                apdu.setOutgoing();
                apdu.setOutgoingLength(n);
                apdu.sendBytesLong(scratch, (short) 0, n);
                return;
            }
            default:
                ISOException.throwIt(ISO7816.SW_INS_NOT_SUPPORTED);
        }
    }
}
