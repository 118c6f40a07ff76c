import HDAudio

/// One register of the controller's MMIO map, as the register table describes it
/// (QEMU intel-hda style: offset, width, reset value, writable bits, write-1-to-clear bits).
public struct RegisterDescription: Sendable, Hashable, CustomStringConvertible {
    /// The register's name (`SD3CTL`, `WALCLKA`).
    public var name: String
    /// Offset in the MMIO space.
    public var offset: UInt32
    /// Width in bytes (1 to 4; SDnCTL is 3).
    public var width: Int
    /// Value after controller reset (and, for descriptor registers, after SRST).
    public var resetValue: UInt32
    /// Bits a write changes.
    public var writableMask: UInt32
    /// Bits a write of 1 clears.
    public var writeOneToClearMask: UInt32
    /// For an alias (WALCLKA, SDnLPIBA), the name of the register it mirrors.
    public var aliasOf: String?

    /// `SD0CTL @0x080/3`.
    public var description: String {
        "\(name) @\(offset.hexLiteral(digits: 3))/\(width)"
    }
}

/// What the write path does after masking: the register's side effects.
enum RegisterRole: Hashable {
    case plain
    case readOnly
    case gctl
    /// WAKEEN and STATESTS: their AND is a CIS cause, so a write recomputes the interrupts.
    case wakeen
    case statests
    case intctl
    case ssync
    case alias(Int)
    case corbwp, corbrp, corbctl, corbsize, corbBase
    case corbsts
    case rirbwp, rintcnt, rirbctl, rirbsts, rirbsize, rirbBase
    /// ICS: the Immediate Command interface (see ImmediateCommand.swift).
    case ics
    case sdCTL(Int)
    case sdSTS(Int)
    /// CBL, LVI, BDPL, BDPU: ignored while the engine runs.
    case sdLocked(Int)
    case sdFMT(Int)
}

/// One row of the register table.
struct RegisterSpec {
    var name: String
    var offset: UInt32
    var width: Int
    var reset: UInt32
    var writable: UInt32
    var w1c: UInt32
    var role: RegisterRole
}

/// Register indices of one stream descriptor, in table order.
enum SDReg: Int, CaseIterable {
    case ctl = 0, sts, lpib, cbl, lvi, fifow, fifos, fmt, bdpl, bdpu

    /// Registers per descriptor (`allCases.count` without building the array on every
    /// register index computed).
    @inline(__always) static var count: Int { bdpu.rawValue + 1 }
}

/// The controller's register table, built once per profile: every register of reference
/// section 1 with its reset value and masks, and a byte map from offset to register.
struct RegisterTable {
    var specs: [RegisterSpec] = []
    /// Byte offset -> index in `specs`, -1 where nothing is implemented.
    var map: [Int16]
    /// Index of the first descriptor register.
    var sdBase = 0
    // Global register indices.
    var gcap = 0, gctl = 0, wakeen = 0, statests = 0, gsts = 0, intctl = 0, intsts = 0, walclk = 0, ssync = 0
    var corblbase = 0, corbubase = 0, corbwp = 0, corbrp = 0, corbctl = 0, corbsts = 0, corbsize = 0
    var rirblbase = 0, rirbubase = 0, rirbwp = 0, rintcnt = 0, rirbctl = 0, rirbsts = 0, rirbsize = 0
    var dplbase = 0, dpubase = 0
    var icoi = 0, irii = 0, ics = 0

    /// Index of register `reg` of descriptor `n`.
    @inline(__always) func sd(_ n: Int, _ reg: SDReg) -> Int { sdBase + n * SDReg.count + reg.rawValue }

    init(profile: ControllerProfile) {
        let layout = profile.layout
        let engines = layout.count
        map = [Int16](repeating: -1, count: Int(HDARegister.aliasBase + HDARegister.streamDescriptor(max(engines, 1))))
        let sdiMask: UInt32 = (1 << UInt32(profile.sdiLines)) - 1
        let addressHigh: UInt32 = profile.gcap.supports64Bit ? 0xFFFF_FFFF : 0
        let engineMask: UInt32 = engines == 0 ? 0 : (1 << UInt32(engines)) - 1

        // Names and widths come from the register map (HDARegister); the table adds what the
        // controller does with each register.
        @discardableResult
        func add(_ register: MMIORegister, reset: UInt32 = 0, writable: UInt32 = 0,
                 w1c: UInt32 = 0, _ role: RegisterRole = .plain) -> Int {
            let index = specs.count
            specs.append(RegisterSpec(name: register.name, offset: register.offset, width: register.width, reset: reset,
                                      writable: writable, w1c: w1c, role: role))
            for b in 0..<register.width {
                precondition(map[Int(register.offset) + b] == -1, "overlapping registers at \(register.name)")
                map[Int(register.offset) + b] = Int16(index)
            }
            return index
        }
        /// The global register at `offset`.
        func global(_ offset: UInt32) -> MMIORegister { HDARegister.globalRegister(at: offset)! }
        /// Register `offset` (`HDARegister.SD`) of descriptor `n`.
        func descriptor(_ n: Int, _ offset: UInt32) -> MMIORegister { HDARegister.descriptorRegister(at: offset)!(n) }

        gcap = add(global(HDARegister.gcap), reset: UInt32(profile.gcap.rawValue), .readOnly)
        add(global(HDARegister.vmin), reset: UInt32(profile.vmin), .readOnly)
        add(global(HDARegister.vmaj), reset: UInt32(profile.vmaj), .readOnly)
        add(global(HDARegister.outpay), reset: UInt32(profile.outpay), .readOnly)
        add(global(HDARegister.inpay), reset: UInt32(profile.inpay), .readOnly)
        gctl = add(global(HDARegister.gctl), writable: GlobalControl.crst | GlobalControl.fcntrl | GlobalControl.unsol, .gctl)
        wakeen = add(global(HDARegister.wakeen), writable: sdiMask, .wakeen)
        statests = add(global(HDARegister.statests), w1c: sdiMask, .statests)
        gsts = add(global(HDARegister.gsts), w1c: GlobalStatus.fsts)
        add(global(HDARegister.outstrmpay), reset: UInt32(profile.outstrmpay), .readOnly)
        add(global(HDARegister.instrmpay), reset: UInt32(profile.instrmpay), .readOnly)
        intctl = add(global(HDARegister.intctl),
                     writable: engineMask | InterruptBits.controller | InterruptBits.global, .intctl)
        intsts = add(global(HDARegister.intsts), .readOnly)
        walclk = add(global(HDARegister.walclk), .readOnly)
        ssync = add(global(profile.ssyncOffset), writable: engineMask, .ssync)
        let baseLow = BaseAddressLow.address.mask
        corblbase = add(global(HDARegister.corblbase), writable: baseLow, .corbBase)
        corbubase = add(global(HDARegister.corbubase), writable: addressHigh, .corbBase)
        corbwp = add(global(HDARegister.corbwp), writable: CorbWritePointer.pointer.mask(as: UInt32.self), .corbwp)
        corbrp = add(global(HDARegister.corbrp), writable: UInt32(CorbReadPointer.reset), .corbrp)
        corbctl = add(global(HDARegister.corbctl), writable: UInt32(CorbControl.writable), .corbctl)
        corbsts = add(global(HDARegister.corbsts), w1c: UInt32(CorbStatus.memoryError), .corbsts)
        // Size capability 0111 (2, 16 and 256 entries), size 10 (256) after reset.
        corbsize = add(global(HDARegister.corbsize), reset: UInt32(RingSize.resetValue), writable: RingSize.field.mask(as: UInt32.self), .corbsize)
        rirblbase = add(global(HDARegister.rirblbase), writable: baseLow, .rirbBase)
        rirbubase = add(global(HDARegister.rirbubase), writable: addressHigh, .rirbBase)
        rirbwp = add(global(HDARegister.rirbwp), writable: UInt32(RirbWritePointer.reset), .rirbwp)
        rintcnt = add(global(HDARegister.rintcnt), writable: ResponseInterruptCount.count.mask(as: UInt32.self), .rintcnt)
        rirbctl = add(global(HDARegister.rirbctl), writable: UInt32(RirbControl.writable), .rirbctl)
        rirbsts = add(global(HDARegister.rirbsts), w1c: UInt32(RirbStatus.writeOneToClear), .rirbsts)
        rirbsize = add(global(HDARegister.rirbsize), reset: UInt32(RingSize.resetValue), writable: RingSize.field.mask(as: UInt32.self), .rirbsize)
        icoi = add(global(HDARegister.icoi), writable: 0xFFFF_FFFF)
        irii = add(global(HDARegister.irii), .readOnly)
        ics = add(global(HDARegister.ics), reset: UInt32(ImmediateCommandStatus.version),
                  writable: UInt32(ImmediateCommandStatus.busy), w1c: UInt32(ImmediateCommandStatus.resultValid), .ics)
        dplbase = add(global(HDARegister.dplbase), writable: baseLow | BaseAddressLow.positionBufferEnable.mask)
        dpubase = add(global(HDARegister.dpubase), writable: addressHigh)

        sdBase = specs.count
        for n in 0..<engines {
            let kind = layout.kind(of: n)
            let ctlMask = StreamControl.writable(kind: kind, sdoLines: profile.sdoLines)
            let output = kind == .output
            add(descriptor(n, HDARegister.SD.ctl), writable: ctlMask, .sdCTL(n))
            add(descriptor(n, HDARegister.SD.sts), w1c: UInt32(StreamStatus.interruptCauses.rawValue), .sdSTS(n))
            add(descriptor(n, HDARegister.SD.lpib), .readOnly)
            add(descriptor(n, HDARegister.SD.cbl), writable: .max, .sdLocked(n))
            add(descriptor(n, HDARegister.SD.lvi), writable: LastValidIndex.field.mask, .sdLocked(n))
            add(descriptor(n, HDARegister.SD.fifow), reset: FIFOWatermark.resetValue, writable: FIFOWatermark.field.mask)
            add(descriptor(n, HDARegister.SD.fifos), reset: UInt32(profile.fifoRule.fifos(for: ConverterFormat(rawValue: 0), output: output)), .readOnly)
            add(descriptor(n, HDARegister.SD.fmt), writable: UInt32(ConverterFormat.writable), .sdFMT(n))
            add(descriptor(n, HDARegister.SD.bdpl), writable: baseLow, .sdLocked(n))
            add(descriptor(n, HDARegister.SD.bdpu), writable: addressHigh, .sdLocked(n))
        }
        add(HDARegister.walclkAliasRegister, .alias(walclk))
        for n in 0..<engines {
            add(HDARegister.lpibAliasRegister(n), .alias(sd(n, .lpib)))
        }
    }

    /// The public description of every register.
    var descriptions: [RegisterDescription] {
        specs.map { spec in
            var alias: String?
            if case .alias(let of) = spec.role { alias = specs[of].name }
            return RegisterDescription(name: spec.name, offset: spec.offset, width: spec.width, resetValue: spec.reset,
                                       writableMask: spec.writable, writeOneToClearMask: spec.w1c, aliasOf: alias)
        }
    }
}
