public import HDAudio

/// How a controller sizes a stream's FIFO (SDnFIFOS + 1 bytes) from the format in SDnFMT.
///
/// ICH6 datasheet: output 192 bytes, 256 for 20- and 24-bit samples; input 120 bytes
/// for 8-, 16- and 32-bit samples, 160 for 20- and 24-bit.
public struct FIFORule: Sendable, Hashable {
    /// Output FIFO bytes for 8-, 16- and 32-bit samples.
    public var outputBytes: Int
    /// Output FIFO bytes for 20- and 24-bit samples.
    public var outputBytes20or24: Int
    /// Input FIFO bytes for 8-, 16- and 32-bit samples.
    public var inputBytes: Int
    /// Input FIFO bytes for 20- and 24-bit samples.
    public var inputBytes20or24: Int

    /// A rule with every size given.
    public init(outputBytes: Int, outputBytes20or24: Int, inputBytes: Int, inputBytes20or24: Int) {
        self.outputBytes = outputBytes
        self.outputBytes20or24 = outputBytes20or24
        self.inputBytes = inputBytes
        self.inputBytes20or24 = inputBytes20or24
    }

    /// The ICH6 datasheet's sizes.
    public static let ich6 = FIFORule(outputBytes: 192, outputBytes20or24: 256, inputBytes: 120, inputBytes20or24: 160)

    /// FIFO bytes for a format value (only the BITS field matters) and a direction.
    public func bytes(for format: ConverterFormat, output: Bool) -> Int {
        let is20or24 = format.bitsField == 2 || format.bitsField == 3
        return output ? (is20or24 ? outputBytes20or24 : outputBytes) : (is20or24 ? inputBytes20or24 : inputBytes)
    }

    /// The SDnFIFOS register value (bytes - 1).
    public func fifos(for format: ConverterFormat, output: Bool) -> UInt16 {
        UInt16(bytes(for: format, output: output) - 1)
    }
}

/// One kind of controller seen in the field (reference section 7): capabilities,
/// payloads, PCI identity, where SSYNC lives, FIFO sizes and handshake latencies.
public struct ControllerProfile: Sendable, Hashable, CustomStringConvertible {
    /// The name users select it by (`ich6`).
    public var name: String
    /// One line about it.
    public var summary: String
    /// GCAP.
    public var gcap: GlobalCapabilities
    /// VMIN.
    public var vmin: UInt8
    /// VMAJ.
    public var vmaj: UInt8
    /// OUTPAY: words per frame per SDO line.
    public var outpay: UInt16
    /// INPAY: words per frame per SDI line.
    public var inpay: UInt16
    /// OUTSTRMPAY: words per frame one output stream may use.
    public var outstrmpay: UInt16
    /// INSTRMPAY: words per frame one input stream may use.
    public var instrmpay: UInt16
    /// PCI vendor id.
    public var pciVendor: UInt16
    /// PCI device id.
    public var pciDevice: UInt16
    /// PCI revision id.
    public var revision: UInt8
    /// Offset of SSYNC (0x34 on ICH6/7/9, 0x38 per the specification).
    public var ssyncOffset: UInt32
    /// SDI lines (codec addresses 0 ..< sdiLines), at most 15.
    public var sdiLines: Int
    /// How SDnFIFOS follows SDnFMT.
    public var fifoRule: FIFORule
    /// Link frames from writing GCTL.CRST = 1 until it reads back 1.
    public var crstExitFrames: UInt64
    /// Link frames from writing SDnCTL.SRST until it reads back the written value.
    public var srstFrames: UInt64

    /// A profile with every field given.
    public init(name: String, summary: String, gcap: GlobalCapabilities, vmin: UInt8 = 0x00, vmaj: UInt8 = 0x01,
                outpay: UInt16 = 0x3C, inpay: UInt16 = 0x1D, outstrmpay: UInt16 = 0x30, instrmpay: UInt16 = 0x18,
                pciVendor: UInt16, pciDevice: UInt16, revision: UInt8, ssyncOffset: UInt32, sdiLines: Int = SDILines.maximum,
                fifoRule: FIFORule = .ich6, crstExitFrames: UInt64, srstFrames: UInt64) {
        precondition((1...SDILines.maximum).contains(sdiLines) && gcap.totalEngines <= 30)
        self.name = name
        self.summary = summary
        self.gcap = gcap
        self.vmin = vmin
        self.vmaj = vmaj
        self.outpay = outpay
        self.inpay = inpay
        self.outstrmpay = outstrmpay
        self.instrmpay = instrmpay
        self.pciVendor = pciVendor
        self.pciDevice = pciDevice
        self.revision = revision
        self.ssyncOffset = ssyncOffset
        self.sdiLines = sdiLines
        self.fifoRule = fifoRule
        self.crstExitFrames = crstExitFrames
        self.srstFrames = srstFrames
    }

    /// The stream descriptors by kind.
    public var layout: EngineLayout { EngineLayout(gcap) }
    /// SDO lines (NSDO).
    public var sdoLines: Int { gcap.sdoLines }
    /// Stream descriptors.
    public var engineCount: Int { gcap.totalEngines }

    /// Intel ICH6 (and QEMU intel-hda): 4 output, 4 input engines, one SDO line, SSYNC at 0x34.
    public static let ich6 = ControllerProfile(
        name: "ich6", summary: "Intel ICH6 (QEMU intel-hda): 4 out, 4 in, 1 SDO line",
        gcap: GlobalCapabilities(rawValue: 0x4401), pciVendor: 0x8086, pciDevice: 0x2668, revision: 0x01,
        ssyncOffset: HDARegister.ssyncICH, crstExitFrames: 3, srstFrames: 1)

    /// Intel ICH9 (QEMU ich9-intel-hda): 4 output, 4 input engines, one SDO line, SSYNC at 0x34.
    public static let ich9 = ControllerProfile(
        name: "ich9", summary: "Intel ICH9 (QEMU ich9-intel-hda): 4 out, 4 in, 1 SDO line",
        gcap: GlobalCapabilities(rawValue: 0x4401), pciVendor: 0x8086, pciDevice: 0x293E, revision: 0x02,
        ssyncOffset: HDARegister.ssyncICH, crstExitFrames: 3, srstFrames: 1)

    /// Intel Skylake PCH: 9 output, 7 input engines (16 descriptors), SSYNC at 0x38.
    public static let skylakePCH = ControllerProfile(
        name: "skylake-pch", summary: "Intel Skylake PCH: 9 out, 7 in, 1 SDO line, SSYNC at 0x38",
        gcap: GlobalCapabilities(rawValue: 0x9701), pciVendor: 0x8086, pciDevice: 0x9D70, revision: 0x21,
        ssyncOffset: HDARegister.ssyncSpec, crstExitFrames: 4, srstFrames: 2)

    /// A specification-legal controller that no vendor ships: 4 output, 4 input and 4
    /// bidirectional engines, 4 SDO lines, SSYNC at 0x38. Its PCI ids (1B36:A2A1, the
    /// QEMU vendor) are Azalia's own. It exercises bidirectional fallback and striping.
    public static let bidirectional4SDO = ControllerProfile(
        name: "azalia-bidi", summary: "Azalia test controller: 4 out, 4 in, 4 bidirectional, 4 SDO lines",
        gcap: GlobalCapabilities(outputEngines: 4, inputEngines: 4, bidirectionalEngines: 4, sdoLines: 4,
                                 supports64Bit: true),
        pciVendor: 0x1B36, pciDevice: 0xA2A1, revision: 0x01, ssyncOffset: HDARegister.ssyncSpec,
        crstExitFrames: 2, srstFrames: 1)

    /// Every profile, the default first.
    public static let all: [ControllerProfile] = [.ich6, .ich9, .skylakePCH, .bidirectional4SDO]

    /// The default profile: ICH6.
    public static let `default` = ControllerProfile.ich6

    /// The profile called `name` (case-insensitive), or nil.
    public static func named(_ name: String) -> ControllerProfile? {
        all.first { $0.name.lowercased() == name.lowercased() }
    }

    /// The name.
    public var description: String { name }
}

/// Faults a test (or a user who wants to see a driver fail) can inject into the controller.
/// Guest memory exhaustion is injected through `GuestMemory.pageLimit`.
public struct FaultInjection: Sendable, Hashable {
    /// Descriptors whose SRST never reads back 1 after being set.
    public var srstNeverLatches: Set<Int>
    /// Descriptors whose SRST never reads back 0 after being cleared.
    public var srstNeverClears: Set<Int>
    /// GCTL.CRST never reads back 1 after being set.
    public var crstNeverCompletes: Bool
    /// Descriptors that raise FIFOE in the first frame of every run.
    public var fifoErrors: Set<Int>
    /// Descriptors whose FIFO never becomes ready: RUN is accepted but FIFORDY never reads
    /// 1 and the engine never moves (a driver waiting for FIFORDY times out).
    public var fifoNeverReady: Set<Int>
    /// Descriptors whose RUN bit ignores being cleared: it keeps reading 1 and the engine
    /// keeps moving (a driver waiting for RUN to read 0 times out).
    public var runNeverClears: Set<Int>

    /// No faults unless given.
    public init(srstNeverLatches: Set<Int> = [], srstNeverClears: Set<Int> = [], crstNeverCompletes: Bool = false,
                fifoErrors: Set<Int> = [], fifoNeverReady: Set<Int> = [], runNeverClears: Set<Int> = []) {
        self.srstNeverLatches = srstNeverLatches
        self.srstNeverClears = srstNeverClears
        self.crstNeverCompletes = crstNeverCompletes
        self.fifoErrors = fifoErrors
        self.fifoNeverReady = fifoNeverReady
        self.runNeverClears = runNeverClears
    }
}
