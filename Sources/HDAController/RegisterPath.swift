import HDAudio

/// The register path: sized reads and writes at any offset, the one write path, and the
/// descriptor lock while RUN or SRST reads 1.
extension HDAController {

    /// The register table of a profile: every register with its reset value and masks.
    public static func registers(of profile: ControllerProfile) -> [RegisterDescription] {
        RegisterTable(profile: profile).descriptions
    }

    /// Reads one byte.
    public func read8(_ offset: UInt32) -> UInt8 { UInt8(truncatingIfNeeded: read(offset, width: 1)) }
    /// Reads 16 bits (little-endian, any offset).
    public func read16(_ offset: UInt32) -> UInt16 { UInt16(truncatingIfNeeded: read(offset, width: 2)) }
    /// Reads 32 bits (little-endian, any offset).
    public func read32(_ offset: UInt32) -> UInt32 { read(offset, width: 4) }
    /// Writes one byte.
    public func write8(_ offset: UInt32, _ value: UInt8) { write(offset, UInt32(value), width: 1) }
    /// Writes 16 bits.
    public func write16(_ offset: UInt32, _ value: UInt16) { write(offset, UInt32(value), width: 2) }
    /// Writes 32 bits.
    public func write32(_ offset: UInt32, _ value: UInt32) { write(offset, value, width: 4) }

    func read(_ offset: UInt32, width: Int) -> UInt32 {
        var result: UInt32 = 0
        for i in 0..<width {
            let (o, overflow) = offset.addingReportingOverflow(UInt32(i))
            guard !overflow, Int(o) < table.map.count else { continue }
            let r = Int(table.map[Int(o)])
            guard r >= 0 else { continue }
            let spec = table.specs[r]
            var source = r
            if case .alias(let of) = spec.role { source = of }
            let byte = (values[source] >> (8 * (o - spec.offset))) & 0xFF
            result |= byte << (8 * UInt32(i))
        }
        return result
    }

    func write(_ offset: UInt32, _ value: UInt32, width: Int) {
        // Group the bytes by register, applying the groups from the highest offset down
        // (no allocation: one pending group at a time).
        var pending = -1
        var groupValue: UInt32 = 0, groupLanes: UInt32 = 0
        for i in stride(from: width - 1, through: 0, by: -1) {
            let (o, overflow) = offset.addingReportingOverflow(UInt32(i))
            guard !overflow, Int(o) < table.map.count else { continue }
            let r = Int(table.map[Int(o)])
            guard r >= 0 else { continue }
            if r != pending {
                if pending >= 0 { writeRegister(pending, groupValue, lanes: groupLanes) }
                pending = r
                groupValue = 0
                groupLanes = 0
            }
            let shift = 8 * (o - table.specs[r].offset)
            groupValue |= ((value >> (8 * UInt32(i))) & 0xFF) << shift
            groupLanes |= 0xFF << shift
        }
        if pending >= 0 { writeRegister(pending, groupValue, lanes: groupLanes) }
    }

    /// The one write path: mask, write-1-to-clear, then the role's side effect.
    func writeRegister(_ r: Int, _ value: UInt32, lanes: UInt32) {
        let spec = table.specs[r]
        if inReset && spec.role != .gctl { return }   // in reset only GCTL listens
        let old = values[r]
        let writable = spec.writable & lanes
        let clear = spec.w1c & lanes & value
        values[r] = ((old & ~writable) | (value & writable)) & ~clear
        switch spec.role {
        case .plain, .readOnly, .alias: break
        case .gctl: writeGCTL(old: old, lanes: lanes)
        case .wakeen, .statests, .intctl: updateInterrupts(engines: 0)   // no engine's causes changed
        case .ssync: writeSSYNC(old: old)
        case .sdCTL(let n): writeCTL(n, old: old, lanes: lanes)
        case .sdSTS(let n): updateInterrupts(engine: n)
        case .sdLocked(let n):
            if descriptorLocked(n) { values[r] = old }
        case .sdFMT(let n):
            if descriptorLocked(n) { values[r] = old } else { updateFIFOS(n) }
        case .corbwp, .corbrp, .corbctl, .corbsts, .corbsize, .corbBase, .rirbwp, .rintcnt, .rirbctl, .rirbsts, .rirbsize,
             .rirbBase:
            writeCommandRing(spec.role, register: r, old: old, value: value, lanes: lanes)
        case .ics: writeImmediateCommandStatus(old: old, value: value, lanes: lanes)
        }
    }

    /// CBL, LVI, FMT, BDPL and BDPU are read-only while RUN reads 1 (whether or not the
    /// engine got FIFORDY: the fifoNeverReady fault leaves RUN at 1 with the engine idle)
    /// and while SRST reads 1.
    @inline(__always) func descriptorLocked(_ n: Int) -> Bool {
        sdValue(n, .ctl) & StreamControl.run != 0 || engines[n].srst.inReset
    }

    @inline(__always) func sdValue(_ n: Int, _ reg: SDReg) -> UInt32 { values[table.sd(n, reg)] }
    @inline(__always) func setSD(_ n: Int, _ reg: SDReg, _ value: UInt32) { values[table.sd(n, reg)] = value }
}
