/// The controller's MMIO register map (reference section 1): offsets, widths and bit fields.
///
/// One source of truth for both halves: the virtual controller builds its register file
/// from these offsets, and the bus driver programs the controller through them.
public enum HDARegister {
    /// Global Capabilities, 16 bits.
    public static let gcap: UInt32 = 0x00
    /// Minor Version, 8 bits (0x00).
    public static let vmin: UInt32 = 0x02
    /// Major Version, 8 bits (0x01).
    public static let vmaj: UInt32 = 0x03
    /// Output Payload Capability, 16 bits, in 16-bit words per frame per SDO line.
    public static let outpay: UInt32 = 0x04
    /// Input Payload Capability, 16 bits, in words per frame per SDI line.
    public static let inpay: UInt32 = 0x06
    /// Global Control, 32 bits (CRST, UNSOL).
    public static let gctl: UInt32 = 0x08
    /// Wake Enable, 16 bits.
    public static let wakeen: UInt32 = 0x0C
    /// State Change Status, 16 bits, one bit per SDI line (write 1 to clear).
    public static let statests: UInt32 = 0x0E
    /// Global Status, 16 bits.
    public static let gsts: UInt32 = 0x10
    /// Output Stream Payload Capability, 16 bits.
    public static let outstrmpay: UInt32 = 0x18
    /// Input Stream Payload Capability, 16 bits.
    public static let instrmpay: UInt32 = 0x1A
    /// Interrupt Control, 32 bits.
    public static let intctl: UInt32 = 0x20
    /// Interrupt Status, 32 bits.
    public static let intsts: UInt32 = 0x24
    /// Wall Clock Counter, 32 bits.
    public static let walclk: UInt32 = 0x30
    /// Stream Synchronization at the specification's offset; ICH6/7/9 put it at 0x34
    /// (a profile property).
    public static let ssyncSpec: UInt32 = 0x38
    /// SSYNC where the ICH6, ICH7 and ICH9 datasheets put it.
    public static let ssyncICH: UInt32 = 0x34
    /// CORB Lower Base Address.
    public static let corblbase: UInt32 = 0x40
    /// CORB Upper Base Address.
    public static let corbubase: UInt32 = 0x44
    /// CORB Write Pointer, 16 bits.
    public static let corbwp: UInt32 = 0x48
    /// CORB Read Pointer, 16 bits (bit 15 reset).
    public static let corbrp: UInt32 = 0x4A
    /// CORB Control, 8 bits.
    public static let corbctl: UInt32 = 0x4C
    /// CORB Status, 8 bits.
    public static let corbsts: UInt32 = 0x4D
    /// CORB Size, 8 bits.
    public static let corbsize: UInt32 = 0x4E
    /// RIRB Lower Base Address.
    public static let rirblbase: UInt32 = 0x50
    /// RIRB Upper Base Address.
    public static let rirbubase: UInt32 = 0x54
    /// RIRB Write Pointer, 16 bits (bit 15 reset).
    public static let rirbwp: UInt32 = 0x58
    /// Response Interrupt Count, 16 bits.
    public static let rintcnt: UInt32 = 0x5A
    /// RIRB Control, 8 bits.
    public static let rirbctl: UInt32 = 0x5C
    /// RIRB Status, 8 bits.
    public static let rirbsts: UInt32 = 0x5D
    /// RIRB Size, 8 bits.
    public static let rirbsize: UInt32 = 0x5E
    /// DMA Position Buffer Lower Base (bit 0 enable, 128-byte aligned).
    public static let dplbase: UInt32 = 0x70
    /// DMA Position Buffer Upper Base.
    public static let dpubase: UInt32 = 0x74

    /// The first stream descriptor.
    public static let streamDescriptorBase: UInt32 = 0x80
    /// The distance between stream descriptors.
    public static let streamDescriptorStride: UInt32 = 0x20
    /// The offset of stream descriptor `index` (inputs first, then outputs, then bidirectional).
    public static func streamDescriptor(_ index: Int) -> UInt32 {
        streamDescriptorBase + UInt32(index) * streamDescriptorStride
    }

    /// The alias page.
    public static let aliasBase: UInt32 = 0x2000
    /// WALCLK's alias on its own page.
    public static let walclkAlias: UInt32 = aliasBase + walclk
    /// The alias of stream descriptor `index`'s LPIB.
    public static func lpibAlias(_ index: Int) -> UInt32 {
        aliasBase + streamDescriptor(index) + SD.lpib
    }

    /// Offsets inside one stream descriptor.
    public enum SD {
        /// SDnCTL, 24 bits (bytes 0-2).
        public static let ctl: UInt32 = 0x00
        /// SDnSTS, 8 bits.
        public static let sts: UInt32 = 0x03
        /// SDnLPIB, 32 bits, read only.
        public static let lpib: UInt32 = 0x04
        /// SDnCBL, 32 bits.
        public static let cbl: UInt32 = 0x08
        /// SDnLVI, 16 bits (8 used).
        public static let lvi: UInt32 = 0x0C
        /// SDnFIFOW, 16 bits.
        public static let fifow: UInt32 = 0x0E
        /// SDnFIFOS, 16 bits.
        public static let fifos: UInt32 = 0x10
        /// SDnFMT, 16 bits.
        public static let fmt: UInt32 = 0x12
        /// SDnBDPL, 32 bits, 128-byte aligned.
        public static let bdpl: UInt32 = 0x18
        /// SDnBDPU, 32 bits.
        public static let bdpu: UInt32 = 0x1C
    }
}

/// GCAP: what the controller has.
public struct GlobalCapabilities: RawRepresentable, Hashable, Sendable {
    /// The 16-bit register value.
    public var rawValue: UInt16
    /// Wraps a raw value.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// OSS (bits 15:12): output engines.
    public static let oss = BitField<UInt16>(bits: 12..<16)
    /// ISS (bits 11:8): input engines.
    public static let iss = BitField<UInt16>(bits: 8..<12)
    /// BSS (bits 7:3): bidirectional engines.
    public static let bss = BitField<UInt16>(bits: 3..<8)
    /// NSDO (bits 2:1): SDO lines, projected onto `StripeControl` (00 one, 01 two, 10 four).
    public static let nsdo = BitField<UInt16>(bits: 1..<3)
    /// 64OK (bit 0): 64-bit addresses.
    public static let ok64 = BitField<UInt16>(bit: 0)

    /// Builds a GCAP value. `sdoLines` must be 1, 2 or 4.
    public init(outputEngines: Int, inputEngines: Int, bidirectionalEngines: Int, sdoLines: Int, supports64Bit: Bool) {
        precondition((0...15).contains(outputEngines) && (0...15).contains(inputEngines)
                     && (0...30).contains(bidirectionalEngines) && [1, 2, 4].contains(sdoLines))
        rawValue = Self.oss.placing(UInt16(outputEngines)) | Self.iss.placing(UInt16(inputEngines))
            | Self.bss.placing(UInt16(bidirectionalEngines))
            | Self.nsdo.placing(UInt16(StripeControl(lines: sdoLines)!.rawValue)) | Self.ok64.placing(supports64Bit ? 1 : 0)
    }

    /// OSS: output engines.
    public var outputEngines: Int { Int(Self.oss.extract(rawValue)) }
    /// ISS: input engines.
    public var inputEngines: Int { Int(Self.iss.extract(rawValue)) }
    /// BSS: bidirectional engines.
    public var bidirectionalEngines: Int { Int(Self.bss.extract(rawValue)) }
    /// NSDO: SDO lines (1, 2 or 4; the reserved value 11 reads as 4).
    public var sdoLines: Int { StripeControl(rawValue: UInt32(Self.nsdo.extract(rawValue)))?.lineCount ?? 4 }
    /// 64OK: 64-bit addresses.
    public var supports64Bit: Bool { Self.ok64.isSet(in: rawValue) }
    /// All engines.
    public var totalEngines: Int { outputEngines + inputEngines + bidirectionalEngines }
}

/// The kind of a stream engine, which fixes its place among the descriptors.
public enum EngineKind: String, Sendable, CaseIterable, Hashable {
    /// An input (capture) engine.
    case input
    /// An output (render) engine.
    case output
    /// A bidirectional engine, set per use by SDnCTL.DIR.
    case bidirectional
}

/// Stream descriptor indices by kind, as GCAP lays them out: inputs, outputs, bidirectional.
public struct EngineLayout: Hashable, Sendable {
    /// Input engine count.
    public var inputs: Int
    /// Output engine count.
    public var outputs: Int
    /// Bidirectional engine count.
    public var bidirectional: Int

    /// The layout GCAP describes.
    public init(_ gcap: GlobalCapabilities) {
        inputs = gcap.inputEngines
        outputs = gcap.outputEngines
        bidirectional = gcap.bidirectionalEngines
    }

    /// All descriptors.
    public var count: Int { inputs + outputs + bidirectional }
    /// Descriptor indices of a kind, ascending.
    public func indices(of kind: EngineKind) -> Range<Int> {
        switch kind {
        case .input: 0..<inputs
        case .output: inputs..<(inputs + outputs)
        case .bidirectional: (inputs + outputs)..<count
        }
    }
    /// The kind of descriptor `index`.
    public func kind(of index: Int) -> EngineKind {
        index < inputs ? .input : index < inputs + outputs ? .output : .bidirectional
    }
}

/// GCTL bits.
public enum GlobalControl {
    /// CRST: 0 holds the controller in reset.
    public static let crst: UInt32 = 1 << 0
    /// FCNTRL: flush control.
    public static let fcntrl: UInt32 = 1 << 1
    /// UNSOL: accept unsolicited responses.
    public static let unsol: UInt32 = 1 << 8
}

/// INTCTL / INTSTS bits.
public enum InterruptBits {
    /// SIE / SIS bits 29:0, one per stream descriptor.
    public static let streamMask: UInt32 = 0x3FFF_FFFF
    /// CIE / CIS: controller (CORB/RIRB) interrupt.
    public static let controller: UInt32 = 1 << 30
    /// GIE / GIS: global.
    public static let global: UInt32 = 1 << 31
}

/// SDnCTL.STRIPE (and GCAP.NSDO): how many SDO lines an output stream uses (a controller has).
public enum StripeControl: UInt32, Sendable, CaseIterable {
    /// One SDO line.
    case oneLine = 0
    /// Two SDO lines.
    case twoLines = 1
    /// Four SDO lines.
    case fourLines = 2

    /// The stripe setting that uses `lines` lines (1, 2 or 4).
    public init?(lines: Int) {
        switch lines {
        case 1: self = .oneLine
        case 2: self = .twoLines
        case 4: self = .fourLines
        default: return nil
        }
    }

    /// Lines used.
    public var lineCount: Int { 1 << Int(rawValue) }
}

/// SDnCTL, the 24-bit stream descriptor control field.
public struct StreamControl: RawRepresentable, Hashable, Sendable {
    /// The register value (bits 23:0).
    public var rawValue: UInt32
    /// Wraps a raw value.
    public init(rawValue: UInt32) { self.rawValue = rawValue & 0xFF_FFFF }

    /// SRST bit.
    public static let srst: UInt32 = 1 << 0
    /// RUN bit.
    public static let run: UInt32 = 1 << 1
    /// IOCE: interrupt on completion enable.
    public static let ioce: UInt32 = 1 << 2
    /// FEIE: FIFO error interrupt enable.
    public static let feie: UInt32 = 1 << 3
    /// DEIE: descriptor error interrupt enable.
    public static let deie: UInt32 = 1 << 4
    /// TP: traffic priority.
    public static let tp: UInt32 = 1 << 18
    /// DIR: on bidirectional engines, 1 = output.
    public static let dir: UInt32 = 1 << 19
    /// SRST, RUN, IOCE, FEIE and DEIE (bits 4:0).
    public static let controlBits = BitField<UInt32>(bits: 0..<5)
    /// STRIPE (bits 17:16), projected onto `StripeControl`.
    public static let stripeField = BitField<UInt32>(bits: 16..<18)
    /// STRM (bits 23:20): the stream tag.
    public static let streamTagField = BitField<UInt32>(bits: 20..<24)
    /// The byte of SDnCTL (bits 23:16) that holds STRIPE, TP, DIR and STRM, written on its own
    /// so that a tag or stripe change cannot touch RUN or SRST.
    public static let streamByte = BitField<UInt32>(bits: 16..<24)
    /// The bits software may write on an engine of `kind` whose controller has `sdoLines`
    /// SDO lines: the control bits, TP and STRM everywhere; STRIPE bits an output stream
    /// can use on that many lines; DIR on bidirectional engines.
    public static func writable(kind: EngineKind, sdoLines: Int) -> UInt32 {
        var mask = controlBits.mask | tp | streamTagField.mask
        if kind != .input {
            if sdoLines >= 2 { mask |= stripeField.placing(StripeControl.twoLines.rawValue) }
            if sdoLines >= 4 { mask |= stripeField.placing(StripeControl.fourLines.rawValue) }
        }
        if kind == .bidirectional { mask |= dir }
        return mask
    }

    private func bit(_ mask: UInt32) -> Bool { rawValue & mask != 0 }
    private mutating func set(_ mask: UInt32, _ on: Bool) { rawValue = on ? rawValue | mask : rawValue & ~mask }

    /// SRST.
    public var streamReset: Bool { get { bit(Self.srst) } set { set(Self.srst, newValue) } }
    /// RUN.
    public var run: Bool { get { bit(Self.run) } set { set(Self.run, newValue) } }
    /// IOCE.
    public var interruptOnCompletion: Bool { get { bit(Self.ioce) } set { set(Self.ioce, newValue) } }
    /// FEIE.
    public var fifoErrorInterrupt: Bool { get { bit(Self.feie) } set { set(Self.feie, newValue) } }
    /// DEIE.
    public var descriptorErrorInterrupt: Bool { get { bit(Self.deie) } set { set(Self.deie, newValue) } }
    /// DIR (bidirectional engines only): true = output.
    public var directionOutput: Bool { get { bit(Self.dir) } set { set(Self.dir, newValue) } }
    /// STRIPE; the reserved value 11 reads as one line.
    public var stripe: StripeControl {
        get { Self.stripeField.extract(rawValue, as: StripeControl.self) ?? .oneLine }
        set { rawValue = Self.stripeField.inserting(newValue, into: rawValue) }
    }
    /// STRM: the stream tag, 0 to 15.
    public var streamTag: UInt8 {
        get { UInt8(Self.streamTagField.extract(rawValue)) }
        set { rawValue = Self.streamTagField.inserting(UInt32(newValue), into: rawValue) }
    }
}

/// SDnLVI: the last valid index of the BDL (bits 7:0; the register is 16 bits).
public enum LastValidIndex {
    /// LVI (bits 7:0).
    public static let field = BitField<UInt32>(bits: 0..<8)
}

/// SDnFIFOW: the FIFO watermark (bits 2:0).
public enum FIFOWatermark {
    /// FIFOW (bits 2:0).
    public static let field = BitField<UInt32>(bits: 0..<3)
    /// The value after reset: 100 (32 bytes).
    public static let resetValue: UInt32 = 0b100
}

/// The DMA position buffer DPLBASE/DPUBASE name: one entry per stream descriptor, in
/// descriptor order, its first 32 bits the descriptor's LPIB.
public enum PositionBuffer {
    /// The size of one descriptor's entry in bytes.
    public static let entrySize = 8
}

/// The 128-byte-aligned base address registers (CORBLBASE, RIRBLBASE, SDnBDPL) and
/// DPLBASE: the address in bits 31:7, and for DPLBASE the enable in bit 0.
public enum BaseAddressLow {
    /// The address bits (31:7); bits 6:0 read 0.
    public static let address = BitField<UInt32>(bits: 7..<32)
    /// DPLBASE.DPBE (bit 0): the controller writes the DMA position buffer.
    public static let positionBufferEnable = BitField<UInt32>(bit: 0)
}

/// SDnSTS bits.
public struct StreamStatus: OptionSet, Hashable, Sendable {
    /// The 8-bit register value.
    public var rawValue: UInt8
    /// Wraps a raw value.
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// BCIS: buffer completion (an IOC entry finished). Write 1 to clear.
    public static let bufferCompletion = StreamStatus(rawValue: 1 << 2)
    /// FIFOE: FIFO error. Write 1 to clear.
    public static let fifoError = StreamStatus(rawValue: 1 << 3)
    /// DESE: descriptor error. Write 1 to clear.
    public static let descriptorError = StreamStatus(rawValue: 1 << 4)
    /// FIFORDY: the FIFO is ready (read only).
    public static let fifoReady = StreamStatus(rawValue: 1 << 5)
    /// The bits a BDL-interface ISR receives: BCIS, FIFOE, DESE.
    public static let interruptCauses: StreamStatus = [.bufferCompletion, .fifoError, .descriptorError]
}

/// One buffer descriptor list entry: 16 bytes in guest memory.
public struct BDLEntry: Hashable, Sendable {
    /// Size of one entry in bytes.
    public static let size = 16
    /// Most entries a BDL may hold (LVI is 8 bits).
    public static let maxEntries = 256
    /// Alignment of the BDL and of every buffer an entry names.
    public static let alignment: UInt64 = 128

    /// The buffer's guest physical address.
    public var address: UInt64
    /// The buffer's length in bytes.
    public var length: UInt32
    /// IOC: raise BCIS when this entry's last byte has moved.
    public var interruptOnCompletion: Bool

    /// An entry.
    public init(address: UInt64, length: UInt32, interruptOnCompletion: Bool) {
        self.address = address
        self.length = length
        self.interruptOnCompletion = interruptOnCompletion
    }

    /// Decodes 16 little-endian bytes: address (bytes 0-7), length (8-11), flags (12-15, bit 0 IOC).
    public init(bytes: some Collection<UInt8>) {
        precondition(bytes.count >= BDLEntry.size)
        var address: UInt64 = 0, length: UInt32 = 0, flags: UInt32 = 0
        for (i, b) in bytes.prefix(BDLEntry.size).enumerated() {
            switch i {
            case 0..<8: address |= UInt64(b) << (8 * UInt64(i))
            case 8..<12: length |= UInt32(b) << (8 * UInt32(i - 8))
            default: flags |= UInt32(b) << (8 * UInt32(i - 12))
            }
        }
        self.init(address: address, length: length, interruptOnCompletion: flags & 1 != 0)
    }

    /// The 16 little-endian bytes of the entry.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(16)
        append(to: &out)
        return out
    }

    /// Appends the entry's 16 bytes to `table` (a BDL built without an array per entry).
    public func append(to table: inout [UInt8]) {
        for i in 0..<8 { table.append(UInt8(truncatingIfNeeded: address >> (8 * UInt64(i)))) }
        for i in 0..<4 { table.append(UInt8(truncatingIfNeeded: length >> (8 * UInt32(i)))) }
        table.append(interruptOnCompletion ? 1 : 0)
        for _ in 0..<3 { table.append(0) }
    }
}
