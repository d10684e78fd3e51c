package org.simota.shclient;

import javacard.framework.AID;
import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Shareable;
import javacard.framework.Util;
import org.simota.shlib.Lib;
import org.simota.shlib.Vault;

/** A client applet: calls the library and the server's {@link Vault}. */
public class Client extends Applet {
    private static final byte[] SERVER = {
        (byte) 0xF0, 0x73, 0x69, 0x6D, 0x6F, 0x74, 0x61, 0x53, 0x01
    };
    private byte[] own = new byte[16];

    public static void install(byte[] b, short off, byte len) {
        new Client().register(b, (short) (off + 1), b[off]);
    }

    private Vault vault(byte param) {
        AID a = JCSystem.lookupAID(SERVER, (short) 0, (byte) SERVER.length);
        if (a == null) {
            ISOException.throwIt(ISO7816.SW_FILE_NOT_FOUND);
        }
        Shareable s = JCSystem.getAppletShareableInterfaceObject(a, param);
        if (s == null) {
            ISOException.throwIt(ISO7816.SW_CONDITIONS_NOT_SATISFIED);
        }
        return (Vault) s;
    }

    public void process(APDU apdu) {
        if (selectingApplet()) {
            return;
        }
        byte[] buf = apdu.getBuffer();
        byte p1 = buf[ISO7816.OFFSET_P1];
        switch (buf[ISO7816.OFFSET_INS]) {
            case 0x50: {
                short n = apdu.setIncomingAndReceive();
                short c = Lib.checksum(buf, ISO7816.OFFSET_CDATA, n);
                Util.setShort(buf, (short) 0, c);
                Util.setShort(buf, (short) 2, Lib.calls());
                apdu.setOutgoingAndSend((short) 0, (short) 4);
                return;
            }
            case 0x20: {
                Vault v = vault((byte) 0x5A);
                short t = v.bump(p1);
                short n = v.whoCalled(buf, (short) 2);
                Util.setShort(buf, (short) 0, t);
                apdu.setOutgoingAndSend((short) 0, (short) (2 + n));
                return;
            }
            case 0x21:
                vault(p1);
                return;
            case 0x30: {
                byte[] s = vault((byte) 0x5A).secret();
                buf[0] = s[0];
                apdu.setOutgoingAndSend((short) 0, (short) 1);
                return;
            }
            case 0x31:
                try {
                    byte[] s = vault((byte) 0x5A).secret();
                    buf[0] = s[0];
                } catch (SecurityException e) {
                    ISOException.throwIt(ISO7816.SW_SECURITY_STATUS_NOT_SATISFIED);
                }
                return;
            case 0x32:
                vault((byte) 0x5A).whoCalled(own, (short) 0);
                return;
            case 0x40: {
                Vault v = vault((byte) 0x5A);
                JCSystem.beginTransaction();
                v.bump(p1);
                JCSystem.abortTransaction();
                Util.setShort(buf, (short) 0, v.bump((short) 0));
                apdu.setOutgoingAndSend((short) 0, (short) 2);
                return;
            }
            default:
                ISOException.throwIt(ISO7816.SW_INS_NOT_SUPPORTED);
        }
    }
}
