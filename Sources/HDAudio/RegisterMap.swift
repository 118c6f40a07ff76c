/// One register of the controller's MMIO map: its name, offset and width, in the style of
/// swift-mmio's `@Register(bitWidth:)` placed at an offset of a `@RegisterBlock`. The
/// offsets are `HDARegister`'s; this is where each register's name and width are written,
/// once, for the controller's register table, test platforms and anything that prints them.
public struct MMIORegister: Hashable, Sendable, CustomStringConvertible {
    /// The register's name as the specification writes it (`GCAP`, `SD3CTL`, `WALCLKA`).
    public let name: String
    /// The offset in the MMIO space.
    public let offset: UInt32
    /// The width in bytes (1 to 4; SDnCTL is 3).
    public let width: Int

    /// A register.
    public init(_ name: String, _ offset: UInt32, width: Int) {
        precondition((1...4).contains(width), "a register is 1 to 4 bytes wide")
        self.name = name
        self.offset = offset
        self.width = width
    }

    /// `SD0CTL @0x080/3`.
    public var description: String { "\(name) @\(offset.hexLiteral(digits: 3))/\(width)" }
}

/// A register every stream descriptor has, `HDARegister.streamDescriptorStride` bytes apart
/// from one descriptor to the next (swift-mmio's register array).
public struct DescriptorRegister: Hashable, Sendable {
    /// The name after the `SDn` prefix (`CTL`, `LPIB`).
    public let name: String
    /// The offset inside the descriptor (`HDARegister.SD`).
    public let offset: UInt32
    /// The width in bytes.
    public let width: Int

    /// This register of stream descriptor `index`.
    public func callAsFunction(_ index: Int) -> MMIORegister {
        MMIORegister("SD\(index)\(name)", HDARegister.streamDescriptor(index) + offset, width: width)
    }
}

extension HDARegister {
    /// The global registers of reference section 1 in offset order, but for SSYNC, whose
    /// offset the controller model decides (`ssync(at:)`).
    public static let globalRegisters: [MMIORegister] = [
        MMIORegister("GCAP", gcap, width: 2), MMIORegister("VMIN", vmin, width: 1), MMIORegister("VMAJ", vmaj, width: 1),
        MMIORegister("OUTPAY", outpay, width: 2), MMIORegister("INPAY", inpay, width: 2),
        MMIORegister("GCTL", gctl, width: 4), MMIORegister("WAKEEN", wakeen, width: 2),
        MMIORegister("STATESTS", statests, width: 2), MMIORegister("GSTS", gsts, width: 2),
        MMIORegister("OUTSTRMPAY", outstrmpay, width: 2), MMIORegister("INSTRMPAY", instrmpay, width: 2),
        MMIORegister("INTCTL", intctl, width: 4), MMIORegister("INTSTS", intsts, width: 4),
        MMIORegister("WALCLK", walclk, width: 4),
        MMIORegister("CORBLBASE", corblbase, width: 4), MMIORegister("CORBUBASE", corbubase, width: 4),
        MMIORegister("CORBWP", corbwp, width: 2), MMIORegister("CORBRP", corbrp, width: 2),
        MMIORegister("CORBCTL", corbctl, width: 1), MMIORegister("CORBSTS", corbsts, width: 1),
        MMIORegister("CORBSIZE", corbsize, width: 1),
        MMIORegister("RIRBLBASE", rirblbase, width: 4), MMIORegister("RIRBUBASE", rirbubase, width: 4),
        MMIORegister("RIRBWP", rirbwp, width: 2), MMIORegister("RINTCNT", rintcnt, width: 2),
        MMIORegister("RIRBCTL", rirbctl, width: 1), MMIORegister("RIRBSTS", rirbsts, width: 1),
        MMIORegister("RIRBSIZE", rirbsize, width: 1),
        MMIORegister("ICOI", icoi, width: 4), MMIORegister("IRII", irii, width: 4), MMIORegister("ICS", ics, width: 2),
        MMIORegister("DPLBASE", dplbase, width: 4), MMIORegister("DPUBASE", dpubase, width: 4),
    ]

    /// SSYNC at `offset` (`ssyncSpec` or `ssyncICH`).
    public static func ssync(at offset: UInt32) -> MMIORegister { MMIORegister("SSYNC", offset, width: 4) }

    /// The global register at `offset` (SSYNC at either of its places), nil for none.
    public static func globalRegister(at offset: UInt32) -> MMIORegister? {
        if offset == ssyncSpec || offset == ssyncICH { return ssync(at: offset) }
        return globalRegisters.first { $0.offset == offset }
    }

    /// The registers of one stream descriptor, in offset order.
    public static let descriptorRegisters: [DescriptorRegister] = [
        DescriptorRegister(name: "CTL", offset: SD.ctl, width: 3), DescriptorRegister(name: "STS", offset: SD.sts, width: 1),
        DescriptorRegister(name: "LPIB", offset: SD.lpib, width: 4), DescriptorRegister(name: "CBL", offset: SD.cbl, width: 4),
        DescriptorRegister(name: "LVI", offset: SD.lvi, width: 2), DescriptorRegister(name: "FIFOW", offset: SD.fifow, width: 2),
        DescriptorRegister(name: "FIFOS", offset: SD.fifos, width: 2), DescriptorRegister(name: "FMT", offset: SD.fmt, width: 2),
        DescriptorRegister(name: "BDPL", offset: SD.bdpl, width: 4), DescriptorRegister(name: "BDPU", offset: SD.bdpu, width: 4),
    ]

    /// The descriptor register at `offset` inside a descriptor.
    public static func descriptorRegister(at offset: UInt32) -> DescriptorRegister? {
        descriptorRegisters.first { $0.offset == offset }
    }

    /// WALCLKA: WALCLK's alias on the alias page.
    public static let walclkAliasRegister = MMIORegister("WALCLKA", walclkAlias, width: 4)

    /// SDnLPIBA: stream descriptor `index`'s LPIB alias.
    public static func lpibAliasRegister(_ index: Int) -> MMIORegister {
        MMIORegister("SD\(index)LPIBA", lpibAlias(index), width: 4)
    }
}
