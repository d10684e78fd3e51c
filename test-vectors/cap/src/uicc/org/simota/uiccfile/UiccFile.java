package org.simota.uiccfile;

import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.JCSystem;
import uicc.access.FileView;
import uicc.access.UICCSystem;

/** Uses uicc.access (ETSI TS 102 241 file access), which simota's card does not have. */
public class UiccFile extends Applet {
    private final FileView view;

    private UiccFile() {
        view = UICCSystem.getTheUICCView(JCSystem.CLEAR_ON_RESET);
    }

    public static void install(byte[] bArray, short bOffset, byte bLength) {
        new UiccFile().register();
    }

    public void process(APDU apdu) {
    }
}
