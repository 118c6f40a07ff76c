/// The Immediate Command interface (HD Audio specification 3.3.28 to 3.3.30): a second way to
/// send one verb to a codec and read its response through registers, without the CORB and
/// RIRB rings. Linux's snd-hda-intel falls back to it ("single_cmd mode") when the rings
/// time out.
extension HDARegister {
    /// ICOI, Immediate Command Output Interface: the verb to send, 32 bits.
    public static let icoi: UInt32 = 0x60
    /// IRII, Immediate Response Input Interface: the last response, 32 bits, read-only.
    public static let irii: UInt32 = 0x64
    /// ICS, Immediate Command Status, 16 bits.
    public static let ics: UInt32 = 0x68
}

/// ICS bits.
public enum ImmediateCommandStatus {
    /// ICB, Immediate Command Busy: software writes 1 to send ICOI; the controller clears it
    /// when the response has arrived.
    public static let busy: UInt16 = 1 << 0
    /// IRV, Immediate Result Valid: set with the response, write 1 to clear.
    public static let resultValid: UInt16 = 1 << 1
    /// ICV, Immediate Command Version: reads 1 (this controller implements ICB and IRV).
    public static let version: UInt16 = 1 << 2
    /// IRRUNSOL: the response in IRII was unsolicited (never, here).
    public static let unsolicited: UInt16 = 1 << 3
    /// IRRADD, bits 7:4: the address of the codec that sent the response.
    public static let responseAddressShift: UInt16 = 4
}
