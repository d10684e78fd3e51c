package org.simota.uiccstk;

import javacard.framework.AID;
import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISOException;
import javacard.framework.Shareable;
import uicc.toolkit.EnvelopeHandler;
import uicc.toolkit.EnvelopeHandlerSystem;
import uicc.toolkit.ProactiveHandler;
import uicc.toolkit.ProactiveHandlerSystem;
import uicc.toolkit.ProactiveResponseHandler;
import uicc.toolkit.ProactiveResponseHandlerSystem;
import uicc.toolkit.ToolkitException;
import uicc.toolkit.ToolkitInterface;
import uicc.toolkit.ToolkitRegistry;
import uicc.toolkit.ToolkitRegistrySystem;

/**
 * simota's ETSI TS 102 241 (uicc.toolkit) test applet.
 *
 * - Menu entry "UICC hello": GET INKEY "Yes?" (yes/no), then DISPLAY TEXT "Yes" or "No"
 *   (from the TERMINAL RESPONSE's text string) — or "Result XX" when the user did not
 *   answer with success.
 * - EVENT DOWNLOAD idle screen available: DISPLAY TEXT "Idle".
 * - The JCRE gets its ToolkitInterface through getShareableInterfaceObject(null, 1).
 * - INS 01 (CLA 80): the ToolkitException reason its constructor caught
 *   (setEvent(EVENT_MENU_SELECTION) is not allowed: 13).
 */
public class UiccStk extends Applet implements ToolkitInterface {
    private static final short EVENT_MENU_SELECTION = 7;
    private static final short EVENT_IDLE_SCREEN = 17;
    private static final byte DCS_8_BIT = (byte) 0x04;

    private static final byte[] MENU = {'U', 'I', 'C', 'C', ' ', 'h', 'e', 'l', 'l', 'o'};
    private static final byte[] ASK = {'Y', 'e', 's', '?'};
    private static final byte[] YES = {'Y', 'e', 's'};
    private static final byte[] NO = {'N', 'o'};
    private static final byte[] IDLE = {'I', 'd', 'l', 'e'};

    private final byte menuId;
    private byte caught;
    private final byte[] text = new byte[12];

    private UiccStk() {
        ToolkitRegistry reg = ToolkitRegistrySystem.getEntry();
        menuId = reg.initMenuEntry(MENU, (short) 0, (short) MENU.length, (byte) 0x22, false,
                (byte) 0, (short) 0);
        reg.setEvent(EVENT_IDLE_SCREEN);
        try {
            reg.setEvent(EVENT_MENU_SELECTION);
        } catch (ToolkitException e) {
            caught = (byte) e.getReason();
        }
    }

    public static void install(byte[] bArray, short bOffset, byte bLength) {
        new UiccStk().register();
    }

    public Shareable getShareableInterfaceObject(AID clientAID, byte parameter) {
        if (clientAID == null && parameter == (byte) 1) {
            return this;
        }
        return null;
    }

    public void process(APDU apdu) throws ISOException {
        if (selectingApplet()) {
            return;
        }
        byte[] buf = apdu.getBuffer();
        if (buf[1] != 0x01) {
            ISOException.throwIt((short) 0x6D00);
        }
        buf[0] = caught;
        apdu.setOutgoingAndSend((short) 0, (short) 1);
    }

    public void processToolkit(short event) throws ToolkitException {
        if (event == EVENT_MENU_SELECTION) {
            EnvelopeHandler eh = EnvelopeHandlerSystem.getTheHandler();
            if (eh.getItemIdentifier() != menuId) {
                return;
            }
            ProactiveHandler ph = ProactiveHandlerSystem.getTheHandler();
            ph.initGetInkey((byte) 0x04, DCS_8_BIT, ASK, (short) 0, (short) ASK.length);
            byte result = ph.send();
            ProactiveResponseHandler rh = ProactiveResponseHandlerSystem.getTheHandler();
            if (result != 0) {
                text[0] = 'R';
                text[1] = (byte) ('0' + ((result >> 4) & 0x0F));
                text[2] = (byte) ('0' + (result & 0x0F));
                show(text, (short) 3);
            } else if (rh.findAndCompareValue((byte) 0x0D, new byte[] {DCS_8_BIT, 0x01}, (short) 0) == 0) {
                show(YES, (short) YES.length);
            } else {
                show(NO, (short) NO.length);
            }
        } else if (event == EVENT_IDLE_SCREEN) {
            show(IDLE, (short) IDLE.length);
        }
    }

    private void show(byte[] t, short n) {
        ProactiveHandler ph = ProactiveHandlerSystem.getTheHandler();
        ph.initDisplayText((byte) 0x81, DCS_8_BIT, t, (short) 0, n);
        ph.send();
    }
}
