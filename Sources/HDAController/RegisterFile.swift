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
        let hex = String(offset, radix: 16, uppercase: true)
        return "\(name) @0x\(String(repeating: "0", count: max(0, 3 - hex.count)) + hex)/\(width)"
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
    case rirbwp, rintcnt, rirbctl, rirbsts, rirbsize, rirbBase
    /// ICS: the Immediate Command interface (see ImmediateCommand.swift).
    case ics
    case sdCTL(Int)
    case sdSTS(Int)
    /// CBL, LVI, BDPL, BDPU: ignored while the engine runs.
    case sdLocked(Int)
    case sdFMT(Int)
}

/// GSTS bits (the vocabulary module names GCTL's bits, not GSTS's).
enum GlobalStatusBits {
    /// FSTS: a flush started by GCTL.FCNTRL has completed (write 1 to clear).
    static let fsts: UInt32 = 1 << 1
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
    @inline(__always) func sd(_ n: Int, _ reg: SDReg) -> Int { sdBase + n * SDReg.allCases.count + reg.rawValue }

    init(profile: ControllerProfile) {
        let layout = profile.layout
        let engines = layout.count
        map = [Int16](repeating: -1, count: Int(HDARegister.aliasBase) + 0x80 + max(engines, 1) * 0x20)
        let sdiMask: UInt32 = (1 << UInt32(profile.sdiLines)) - 1
        let addressHigh: UInt32 = profile.gcap.supports64Bit ? 0xFFFF_FFFF : 0
        let engineMask: UInt32 = engines == 0 ? 0 : (1 << UInt32(engines)) - 1

        @discardableResult
        func add(_ name: String, _ offset: UInt32, _ width: Int, reset: UInt32 = 0, writable: UInt32 = 0,
                 w1c: UInt32 = 0, _ role: RegisterRole = .plain) -> Int {
            let index = specs.count
            specs.append(RegisterSpec(name: name, offset: offset, width: width, reset: reset, writable: writable,
                                      w1c: w1c, role: role))
            for b in 0..<width {
                precondition(map[Int(offset) + b] == -1, "overlapping registers at \(name)")
                map[Int(offset) + b] = Int16(index)
            }
            return index
        }

        gcap = add("GCAP", HDARegister.gcap, 2, reset: UInt32(profile.gcap.rawValue), .readOnly)
        add("VMIN", HDARegister.vmin, 1, reset: UInt32(profile.vmin), .readOnly)
        add("VMAJ", HDARegister.vmaj, 1, reset: UInt32(profile.vmaj), .readOnly)
        add("OUTPAY", HDARegister.outpay, 2, reset: UInt32(profile.outpay), .readOnly)
        add("INPAY", HDARegister.inpay, 2, reset: UInt32(profile.inpay), .readOnly)
        gctl = add("GCTL", HDARegister.gctl, 4, writable: GlobalControl.crst | GlobalControl.fcntrl | GlobalControl.unsol, .gctl)
        wakeen = add("WAKEEN", HDARegister.wakeen, 2, writable: sdiMask, .wakeen)
        statests = add("STATESTS", HDARegister.statests, 2, w1c: sdiMask, .statests)
        gsts = add("GSTS", HDARegister.gsts, 2, w1c: GlobalStatusBits.fsts)
        add("OUTSTRMPAY", HDARegister.outstrmpay, 2, reset: UInt32(profile.outstrmpay), .readOnly)
        add("INSTRMPAY", HDARegister.instrmpay, 2, reset: UInt32(profile.instrmpay), .readOnly)
        intctl = add("INTCTL", HDARegister.intctl, 4,
                     writable: engineMask | InterruptBits.controller | InterruptBits.global, .intctl)
        intsts = add("INTSTS", HDARegister.intsts, 4, .readOnly)
        walclk = add("WALCLK", HDARegister.walclk, 4, .readOnly)
        ssync = add("SSYNC", profile.ssyncOffset, 4, writable: engineMask, .ssync)
        corblbase = add("CORBLBASE", HDARegister.corblbase, 4, writable: 0xFFFF_FF80, .corbBase)
        corbubase = add("CORBUBASE", HDARegister.corbubase, 4, writable: addressHigh, .corbBase)
        corbwp = add("CORBWP", HDARegister.corbwp, 2, writable: 0xFF, .corbwp)
        corbrp = add("CORBRP", HDARegister.corbrp, 2, writable: 0x8000, .corbrp)
        corbctl = add("CORBCTL", HDARegister.corbctl, 1, writable: 0x3, .corbctl)
        corbsts = add("CORBSTS", HDARegister.corbsts, 1, w1c: 0x1, .rirbsts)
        // Size capability 0111 (2, 16 and 256 entries), size 10 (256) after reset.
        corbsize = add("CORBSIZE", HDARegister.corbsize, 1, reset: 0x72, writable: 0x3, .corbsize)
        rirblbase = add("RIRBLBASE", HDARegister.rirblbase, 4, writable: 0xFFFF_FF80, .rirbBase)
        rirbubase = add("RIRBUBASE", HDARegister.rirbubase, 4, writable: addressHigh, .rirbBase)
        rirbwp = add("RIRBWP", HDARegister.rirbwp, 2, writable: 0x8000, .rirbwp)
        rintcnt = add("RINTCNT", HDARegister.rintcnt, 2, writable: 0xFF, .rintcnt)
        rirbctl = add("RIRBCTL", HDARegister.rirbctl, 1, writable: 0x7, .rirbctl)
        rirbsts = add("RIRBSTS", HDARegister.rirbsts, 1, w1c: 0x5, .rirbsts)
        rirbsize = add("RIRBSIZE", HDARegister.rirbsize, 1, reset: 0x72, writable: 0x3, .rirbsize)
        (icoi, irii, ics) = HDAController.addImmediateCommandRegisters(add)
        dplbase = add("DPLBASE", HDARegister.dplbase, 4, writable: 0xFFFF_FF81)
        dpubase = add("DPUBASE", HDARegister.dpubase, 4, writable: addressHigh)

        sdBase = specs.count
        for n in 0..<engines {
            let base = HDARegister.streamDescriptor(n)
            let kind = layout.kind(of: n)
            var ctlMask: UInt32 = 0x1F | StreamControl.tp | 0xF0_0000
            if kind != .input {
                if profile.sdoLines >= 2 { ctlMask |= 1 << 16 }
                if profile.sdoLines >= 4 { ctlMask |= 1 << 17 }
            }
            if kind == .bidirectional { ctlMask |= StreamControl.dir }
            let output = kind == .output
            let p = "SD\(n)"
            add(p + "CTL", base + HDARegister.SD.ctl, 3, writable: ctlMask, .sdCTL(n))
            add(p + "STS", base + HDARegister.SD.sts, 1, w1c: UInt32(StreamStatus.interruptCauses.rawValue), .sdSTS(n))
            add(p + "LPIB", base + HDARegister.SD.lpib, 4, .readOnly)
            add(p + "CBL", base + HDARegister.SD.cbl, 4, writable: 0xFFFF_FFFF, .sdLocked(n))
            add(p + "LVI", base + HDARegister.SD.lvi, 2, writable: 0xFF, .sdLocked(n))
            add(p + "FIFOW", base + HDARegister.SD.fifow, 2, reset: 0x4, writable: 0x7)
            add(p + "FIFOS", base + HDARegister.SD.fifos, 2,
                reset: UInt32(profile.fifoRule.fifos(for: ConverterFormat(rawValue: 0), output: output)), .readOnly)
            add(p + "FMT", base + HDARegister.SD.fmt, 2, writable: 0xFF7F, .sdFMT(n))
            add(p + "BDPL", base + HDARegister.SD.bdpl, 4, writable: 0xFFFF_FF80, .sdLocked(n))
            add(p + "BDPU", base + HDARegister.SD.bdpu, 4, writable: addressHigh, .sdLocked(n))
        }
        add("WALCLKA", HDARegister.walclkAlias, 4, .alias(walclk))
        for n in 0..<engines {
            add("SD\(n)LPIBA", HDARegister.lpibAlias(n), 4, .alias(sd(n, .lpib)))
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
