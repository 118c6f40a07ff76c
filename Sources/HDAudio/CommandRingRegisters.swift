/// The bit fields of the global status and command-ring registers (reference section 1), in one
/// place for the controller that implements them, the bus that programs them, and the tests.

/// STATESTS and WAKEEN: one bit per SDI line (bits 14:0).
public enum SDILines {
    /// The most SDI lines a controller has: one per codec address, 0 to 14.
    public static let maximum = 15
    /// The bits of STATESTS and WAKEEN that name SDI lines (14:0).
    public static let field = BitField<UInt16>(bits: 0..<maximum)
    /// `field`'s bits in place.
    public static let mask: UInt16 = field.mask
}

/// GSTS: global status.
public enum GlobalStatus {
    /// FSTS (bit 1): a flush started by GCTL.FCNTRL has completed (write 1 to clear).
    public static let fsts: UInt32 = 1 << 1
}

/// CORBRP: the CORB read pointer.
public enum CorbReadPointer {
    /// CORBRPRST (bit 15): write 1 to reset the read pointer; reads 1 once the reset took.
    public static let reset: UInt16 = 1 << 15
    /// The pointer itself (bits 7:0).
    public static let pointer = BitField<UInt16>(bits: 0..<8)
}

/// CORBWP: the CORB write pointer (bits 7:0; the register is 16 bits).
public enum CorbWritePointer {
    /// The pointer (bits 7:0).
    public static let pointer = BitField<UInt16>(bits: 0..<8)
}

/// RINTCNT: responses before a response interrupt (bits 7:0; 0 means 256).
public enum ResponseInterruptCount {
    /// N_RESPONSE (bits 7:0).
    public static let count = BitField<UInt16>(bits: 0..<8)
}

/// CORBCTL: CORB control.
public enum CorbControl {
    /// CMEIE (bit 0): interrupt on a CORB memory error.
    public static let memoryErrorInterrupt: UInt8 = 1 << 0
    /// CORBRUN (bit 1): the CORB DMA engine runs.
    public static let run: UInt8 = 1 << 1
    /// The writable bits.
    public static let writable: UInt8 = memoryErrorInterrupt | run
}

/// CORBSTS: CORB status.
public enum CorbStatus {
    /// CMEI (bit 0): a CORB memory error (write 1 to clear).
    public static let memoryError: UInt8 = 1 << 0
}

/// RIRBWP: the RIRB write pointer.
public enum RirbWritePointer {
    /// RIRBWPRST (bit 15): write 1 to reset the write pointer to 0.
    public static let reset: UInt16 = 1 << 15
    /// The pointer itself (bits 7:0).
    public static let pointer = BitField<UInt16>(bits: 0..<8)
}

/// RIRBCTL: RIRB control.
public enum RirbControl {
    /// RINTCTL (bit 0): interrupt after RINTCNT responses (or an unsolicited one).
    public static let responseInterrupt: UInt8 = 1 << 0
    /// RIRBDMAEN (bit 1): the RIRB DMA engine runs.
    public static let dmaEnable: UInt8 = 1 << 1
    /// RIRBOIC (bit 2): interrupt on a RIRB overrun.
    public static let overrunInterrupt: UInt8 = 1 << 2
    /// The writable bits.
    public static let writable: UInt8 = responseInterrupt | dmaEnable | overrunInterrupt
}

/// RIRBSTS: RIRB status.
public enum RirbStatus {
    /// RINTFL (bit 0): responses arrived (write 1 to clear).
    public static let responseInterrupt: UInt8 = 1 << 0
    /// RIRBOIS (bit 2): a response was lost to an overrun (write 1 to clear).
    public static let overrun: UInt8 = 1 << 2
    /// The write-1-to-clear bits.
    public static let writeOneToClear: UInt8 = responseInterrupt | overrun
}

/// CORBSIZE and RIRBSIZE: the ring size in bits 1:0, the size capability in bits 7:4.
public enum RingSize: UInt8, Sendable, CaseIterable {
    /// 00: 2 entries.
    case two = 0
    /// 01: 16 entries.
    case sixteen = 1
    /// 10: 256 entries.
    case twoHundredFiftySix = 2

    /// The size field (bits 1:0), projected onto `RingSize`.
    public static let field = BitField<UInt8>(bits: 0..<2)
    /// The size capability (bits 7:4): bit 4 + n set when size n is supported.
    public static let capability = BitField<UInt8>(bits: 4..<8)
    /// The value after reset: capability 0111 (2, 16 and 256 entries), size 10 (256).
    public static let resetValue: UInt8 = capability.placing(0b0111) | field.placing(RingSize.twoHundredFiftySix.rawValue)
    /// Entries in a ring of this size (always a power of two).
    @inlinable public var entries: Int {
        switch self {
        case .two: 2
        case .sixteen: 16
        case .twoHundredFiftySix: 256
        }
    }
    /// The entries a register value names (the reserved size 11 reads as 256). The command
    /// path asks on every batch, so the size bits are masked rather than projected.
    @inlinable public static func entries(_ value: UInt8) -> Int {
        (RingSize(rawValue: value & 0b11) ?? .twoHundredFiftySix).entries
    }
}

/// A CORB entry: one 32-bit verb.
public enum CorbEntry {
    /// The size of one entry in bytes.
    public static let size = 4
    /// The verb's codec address (bits 31:28): the codec the verb goes to.
    public static let codecAddress = BitField<UInt32>(bits: 28..<32)
}

/// A RIRB entry: the 32-bit response, then the extended word.
public enum RirbEntry {
    /// The size of one entry in bytes.
    public static let size = 8
    /// The extended word's codec address (bits 3:0).
    public static let codecAddress = BitField<UInt32>(bits: 0..<4)
    /// The extended word's UNSOL bit (bit 4): an unsolicited response.
    public static let unsolicited = BitField<UInt32>(bit: 4)
}
