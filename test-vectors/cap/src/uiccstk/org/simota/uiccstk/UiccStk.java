package org.simota.uiccstk;

import javacard.framework.AID;
import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISOException;
import javacard.framework.Shareable;
import uicc.toolkit.ToolkitInterface;
import uicc.toolkit.ToolkitRegistry;
import uicc.toolkit.ToolkitRegistrySystem;

/**
 * A minimal ETSI TS 102 241 (uicc.toolkit) applet: registers EVENT_PROFILE_DOWNLOAD and does
 * nothing else. simota's card has no uicc.toolkit package: its CAP is refused at link time.
 */
public class UiccStk extends Applet implements ToolkitInterface {
    private UiccStk() {
        ToolkitRegistry reg = ToolkitRegistrySystem.getEntry();
        reg.setEvent((short) 1);
    }

    public static void install(byte[] bArray, short bOffset, byte bLength) {
        new UiccStk().register();
    }

    public Shareable getShareableInterfaceObject(AID clientAID, byte parameter) {
        return parameter == (byte) 1 ? this : null;
    }

    public void process(APDU apdu) throws ISOException {
    }

    public void processToolkit(short event) {
    }
}
