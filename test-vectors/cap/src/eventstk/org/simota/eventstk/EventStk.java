package org.simota.eventstk;

import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import sim.toolkit.EnvelopeHandler;
import sim.toolkit.EnvelopeResponseHandler;
import sim.toolkit.ProactiveHandler;
import sim.toolkit.ProactiveResponseHandler;
import sim.toolkit.ToolkitException;
import sim.toolkit.ToolkitInterface;
import sim.toolkit.ToolkitRegistry;

/**
 * simota's sim.toolkit (3GPP TS 43.019) test applet.
 *
 * - Menu entry "Your name": GET INPUT "Name?" (8-bit text, 1..12 characters), then, in the
 *   same proactive session, DISPLAY TEXT "Hello, NAME" (or "No name" when the user did not
 *   answer with success).
 * - EVENT DOWNLOAD user activity: counts the events and shows "Activity N" (DISPLAY TEXT).
 * - Unrecognized envelopes: answers with the envelope tag, the activity count and the
 *   ToolkitException reason its constructor caught (setEvent(EVENT_MENU_SELECTION) is not
 *   allowed), as the TLV 81 03 tag count reason, posted with the EnvelopeResponseHandler.
 * - INS 01 (CLA 80): the activity count; INS 02: clears the user activity event.
 */
public class EventStk extends Applet implements ToolkitInterface {
    private static final byte EVENT_MENU_SELECTION = (byte) 7;
    private static final byte EVENT_USER_ACTIVITY = (byte) 16;
    private static final byte EVENT_UNRECOGNIZED_ENVELOPE = (byte) -1;
    private static final byte DCS_8_BIT = (byte) 0x04;
    private static final byte TAG_TEXT_STRING = (byte) 0x0D;

    private static final byte[] MENU = {'Y', 'o', 'u', 'r', ' ', 'n', 'a', 'm', 'e'};
    private static final byte[] PROMPT = {'N', 'a', 'm', 'e', '?'};
    private static final byte[] HELLO = {'H', 'e', 'l', 'l', 'o', ',', ' '};
    private static final byte[] NO_NAME = {'N', 'o', ' ', 'n', 'a', 'm', 'e'};
    private static final byte[] ACTIVITY = {'A', 'c', 't', 'i', 'v', 'i', 't', 'y', ' '};

    private final ToolkitRegistry reg;
    private final byte menuId;
    private byte activities;
    private byte caught;
    private final byte[] text;

    private EventStk() {
        reg = ToolkitRegistry.getEntry();
        menuId = reg.initMenuEntry(MENU, (short) 0, (short) MENU.length, (byte) 0x23, false,
                (byte) 0, (short) 0);
        reg.setEvent(EVENT_USER_ACTIVITY);
        reg.setEvent(EVENT_UNRECOGNIZED_ENVELOPE);
        try {
            reg.setEvent(EVENT_MENU_SELECTION);
        } catch (ToolkitException e) {
            caught = (byte) e.getReason();
        }
        text = JCSystem.makeTransientByteArray((short) 40, JCSystem.CLEAR_ON_RESET);
    }

    public static void install(byte[] bArray, short bOffset, byte bLength) {
        new EventStk().register();
    }

    public void process(APDU apdu) throws ISOException {
        if (selectingApplet()) {
            return;
        }
        byte[] buf = apdu.getBuffer();
        switch (buf[ISO7816.OFFSET_INS]) {
            case 0x01:
                buf[0] = activities;
                apdu.setOutgoingAndSend((short) 0, (short) 1);
                return;
            case 0x02:
                reg.clearEvent(EVENT_USER_ACTIVITY);
                return;
            default:
                ISOException.throwIt(ISO7816.SW_INS_NOT_SUPPORTED);
        }
    }

    public void processToolkit(byte event) throws ToolkitException {
        if (event == EVENT_MENU_SELECTION) {
            if (EnvelopeHandler.getTheHandler().getItemIdentifier() == menuId) {
                askName();
            }
        } else if (event == EVENT_USER_ACTIVITY) {
            activities++;
            short n = copy(ACTIVITY, (short) 0);
            text[n++] = (byte) ('0' + activities % 10);
            show(n);
        } else if (event == EVENT_UNRECOGNIZED_ENVELOPE) {
            EnvelopeHandler env = EnvelopeHandler.getTheHandler();
            EnvelopeResponseHandler rsp = EnvelopeResponseHandler.getTheHandler();
            text[0] = env.getEnvelopeTag();
            text[1] = activities;
            text[2] = caught;
            rsp.appendTLV((byte) 0x81, text, (short) 0, (short) 3);
            rsp.post((byte) 0);
        }
    }

    private void askName() {
        ProactiveHandler ph = ProactiveHandler.getTheHandler();
        ph.initGetInput((byte) 0x01, DCS_8_BIT, PROMPT, (short) 0, (short) PROMPT.length,
                (short) 1, (short) 12);
        byte result = ph.send();
        ProactiveResponseHandler rh = ProactiveResponseHandler.getTheHandler();
        short n;
        if (result == 0 && rh.getTextStringLength() > 0) {
            n = copy(HELLO, (short) 0);
            n = rh.copyTextString(text, n);
        } else {
            n = copy(NO_NAME, (short) 0);
        }
        show(n);
    }

    private short copy(byte[] src, short at) {
        for (short i = 0; i < src.length; i++) {
            text[at++] = src[i];
        }
        return at;
    }

    private void show(short n) {
        ProactiveHandler ph = ProactiveHandler.getTheHandler();
        ph.initDisplayText((byte) 0x81, DCS_8_BIT, text, (short) 0, n);
        ph.send();
    }
}
