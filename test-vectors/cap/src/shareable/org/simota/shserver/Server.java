package org.simota.shserver;

import javacard.framework.AID;
import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Shareable;
import javacard.framework.Util;
import org.simota.shlib.Vault;

/** A server applet: hands itself out as a {@link Vault} to clients asking with parameter 5A. */
public class Server extends Applet implements Vault {
    private short total;
    private byte[] last = new byte[16];
    private byte lastLen;
    private byte[] secretData = {1, 2, 3, 4};

    public static void install(byte[] b, short off, byte len) {
        new Server().register(b, (short) (off + 1), b[off]);
    }

    public Shareable getShareableInterfaceObject(AID client, byte param) {
        if (param != (byte) 0x5A) {
            return null;
        }
        return this;
    }

    public short bump(short by) {
        AID p = JCSystem.getPreviousContextAID();
        lastLen = p == null ? 0 : p.getBytes(last, (short) 0);
        total += by;
        return total;
    }

    public short whoCalled(byte[] buf, short off) {
        Util.arrayCopy(last, (short) 0, buf, off, lastLen);
        return lastLen;
    }

    public byte[] secret() {
        return secretData;
    }

    public void process(APDU apdu) {
        if (selectingApplet()) {
            return;
        }
        byte[] buf = apdu.getBuffer();
        switch (buf[ISO7816.OFFSET_INS]) {
            case 0x01:
                Util.setShort(buf, (short) 0, total);
                apdu.setOutgoingAndSend((short) 0, (short) 2);
                return;
            case 0x02:
                Util.arrayCopyNonAtomic(last, (short) 0, buf, (short) 0, lastLen);
                apdu.setOutgoingAndSend((short) 0, lastLen);
                return;
            default:
                ISOException.throwIt(ISO7816.SW_INS_NOT_SUPPORTED);
        }
    }
}
