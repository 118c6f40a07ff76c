public import HDAudio

/// The virtual HD Audio controller: a register-accurate MMIO register file, stream DMA
/// engines, the link clock and the codecs attached to the link.
///
/// Time moves only in `advance(frames:)`, in batches from event to event; the result is
/// identical, frame for frame, to stepping one frame at a time. Not Sendable: callers
/// serialise access (the bus's platform wraps the controller in a lock).
///
/// Register access follows QEMU intel-hda's shape: ONE table of registers (offset, width,
/// reset value, writable mask, write-1-to-clear mask, role), ONE write path (mask, clear,
/// then the role's side effect) and ONE reset loop. Accesses of 1, 2 or 4 bytes may start
/// at any offset: each byte reaches the register that holds it, so a byte write at
/// SDnCTL + 3 reaches SDnSTS and a 32-bit write at SDnCTL writes CTL and STS together
/// (STS first, so a write that clears old errors and sets RUN keeps a new DESE).
/// Unimplemented offsets read 0 and ignore writes.
public final class HDAController {
    /// The kind of controller.
    public let profile: ControllerProfile
    /// Guest RAM, the only memory DMA reaches.
    public let memory: GuestMemory
    /// Injected faults; may be changed at any time.
    public var faults: FaultInjection
    /// Called whenever the interrupt line changes (true = asserted). Runs inside the
    /// controller call that caused it: it must not call back into the controller.
    public var interruptLineChanged: ((Bool) -> Void)?

    /// Link time in frames since power-on.
    public internal(set) var frame: UInt64 = 0
    /// The interrupt line: GIE and (an enabled SIS, or CIS with CIE).
    public internal(set) var interruptAsserted = false
    /// Interrupt causes raised so far: counts every stream status bit (BCIS, FIFOE, DESE)
    /// that became set while its enable (IOCE, FEIE, DEIE) is on, and every time CIS went
    /// from 0 to 1. A cause raised while the same bit is still set is merged, as in hardware.
    public internal(set) var interruptCausesRaised: UInt64 = 0

    /// The stream causes set and enabled at the last `updateInterrupts`: for BCIS, FIFOE
    /// and DESE one bit per engine (GCAP allows at most 60 engines). Plain words, not an
    /// array, so the check costs nothing measurable on the register-write path.
    var enabledCauses: (completion: UInt64, fifo: UInt64, descriptor: UInt64) = (0, 0, 0)
    /// CIS at the last `updateInterrupts`.
    var lastCIS = false

    let table: RegisterTable
    var values: [UInt32]
    let resetValues: [UInt32]
    let engines: [StreamEngine]
    let layout: EngineLayout

    /// GCTL.CRST reads 0.
    var inReset = true
    var crstExitAt: UInt64?
    var crstRequested = false
    var codecWakeAt: UInt64?
    var codecsAwake = false
    var codecs: [(any LinkCodec)?]

    /// Bits carried per SDO line.
    public internal(set) var sdoBitsCarried: [UInt64]
    /// Input-stream bits carried per SDI line (codec address).
    public internal(set) var sdiBitsCarried: [UInt64]
    /// Position-buffer writes that failed because the buffer is not RAM.
    public internal(set) var positionBufferErrors: UInt64 = 0

    var corb = CommandRings()

    /// A controller of `profile` over `memory`, powered on and held in reset (CRST = 0).
    public init(profile: ControllerProfile = .default, memory: GuestMemory, faults: FaultInjection = .init()) {
        self.profile = profile
        self.memory = memory
        self.faults = faults
        table = RegisterTable(profile: profile)
        resetValues = table.specs.map(\.reset)
        values = resetValues
        layout = profile.layout
        engines = (0..<profile.layout.count).map { StreamEngine(index: $0, kind: profile.layout.kind(of: $0)) }
        codecs = Array(repeating: nil, count: profile.sdiLines)
        sdoBitsCarried = Array(repeating: 0, count: profile.sdoLines)
        sdiBitsCarried = Array(repeating: 0, count: profile.sdiLines)
    }

    // MARK: Register file

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
        case .wakeen, .statests, .intctl: updateInterrupts()
        case .ssync: writeSSYNC(old: old)
        case .sdCTL(let n): writeCTL(n, old: old, lanes: lanes)
        case .sdSTS: updateInterrupts()
        case .sdLocked(let n):
            if descriptorLocked(n) { values[r] = old }
        case .sdFMT(let n):
            if descriptorLocked(n) { values[r] = old } else { updateFIFOS(n) }
        case .corbwp, .corbrp, .corbctl, .corbsize, .corbBase, .rirbwp, .rintcnt, .rirbctl, .rirbsts, .rirbsize,
             .rirbBase:
            writeCommandRing(spec.role, register: r, old: old, value: value, lanes: lanes)
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

    // MARK: GCTL and controller reset

    /// GCTL.CRST: writing 0 enters reset (every register back to its reset value, engines
    /// stopped, codecs reset, WALCLK cleared); writing 1 reads back 1 after the profile's
    /// `crstExitFrames` of link time, and the attached codecs appear in STATESTS
    /// `LinkTiming.codecWakeFrames` (25) frames later. Fault: CRST never completes.
    /// FCNTRL = 1 out of reset flushes the stream FIFOs: the flush completes at once, so
    /// FCNTRL reads back 0 and GSTS.FSTS (write 1 to clear) is set.
    func writeGCTL(old: UInt32, lanes: UInt32) {
        let crstWritten = lanes & GlobalControl.crst != 0
        let wantOut = values[table.gctl] & GlobalControl.crst != 0
        if inReset {
            values[table.gctl] = resetValues[table.gctl]
            guard crstWritten else { return }
            if wantOut {
                guard !crstRequested else { return }
                crstRequested = true
                if faults.crstNeverCompletes { return }
                if profile.crstExitFrames == 0 {
                    leaveReset()
                } else {
                    crstExitAt = frame.addingSaturated(profile.crstExitFrames)
                }
            } else {
                crstRequested = false
                crstExitAt = nil
            }
            return
        }
        if crstWritten && !wantOut {
            enterReset()
            return
        }
        if values[table.gctl] & GlobalControl.fcntrl != 0 {   // FCNTRL written 1: the flush completes at once
            values[table.gctl] &= ~GlobalControl.fcntrl
            values[table.gsts] |= GlobalStatusBits.fsts
        }
    }

    /// The one reset loop: every register to its reset value, every engine stopped.
    func enterReset() {
        for i in values.indices { values[i] = resetValues[i] }
        for e in engines { e.resetState() }
        inReset = true
        crstRequested = false
        crstExitAt = nil
        codecWakeAt = nil
        codecsAwake = false
        corb = CommandRings()
        for codec in codecs { codec?.linkReset() }
        updateInterrupts()
    }

    func leaveReset() {
        inReset = false
        crstExitAt = nil
        crstRequested = false
        values[table.gctl] |= GlobalControl.crst
        codecWakeAt = frame.addingSaturated(UInt64(LinkTiming.codecWakeFrames))
    }

    func wakeCodecs() {
        codecWakeAt = nil
        codecsAwake = true
        for (address, codec) in codecs.enumerated() where codec != nil {
            values[table.statests] |= 1 << UInt32(address)
        }
    }

    // MARK: Codecs

    /// Attaches a codec at SDI address `address` (0 ..< profile.sdiLines). STATESTS shows
    /// it after the codec wake that follows CRST exit (at once if the link is already
    /// awake). Returns false, changing nothing, for an address the profile lacks.
    @discardableResult
    public func attach(_ codec: any LinkCodec, at address: Int) -> Bool {
        guard codecs.indices.contains(address) else { return false }
        codecs[address] = codec
        if codecsAwake {
            values[table.statests] |= 1 << UInt32(address)
            updateInterrupts()   // a state change: CIS when WAKEEN has the address
        }
        return true
    }

    /// Detaches the codec at `address`, if any.
    public func detach(at address: Int) {
        guard codecs.indices.contains(address) else { return }
        codecs[address] = nil
    }

    /// The codec attached at `address`.
    public func codec(at address: Int) -> (any LinkCodec)? {
        codecs.indices.contains(address) ? codecs[address] : nil
    }

    // MARK: Interrupts

    /// Recomputes INTSTS and the interrupt line. SIS n = BCIS & IOCE | FIFOE & FEIE |
    /// DESE & DEIE; CIS as `controllerInterruptStatus` says. GIS is the OR of every SIS bit
    /// and CIS, independent of SIE and CIE (Intel's INTSTS.GIS); the enables gate only the
    /// line: GIE and (an SIS enabled by its SIE, or CIS with CIE).
    /// Also counts newly raised causes (`interruptCausesRaised`), so that
    /// `advance(frames:stopAtInterrupt:)` can stop at every one of them.
    func updateInterrupts() {
        var sis: UInt32 = 0
        var completion: UInt64 = 0, fifo: UInt64 = 0, descriptor: UInt64 = 0
        let b = UInt32(StreamStatus.bufferCompletion.rawValue), f = UInt32(StreamStatus.fifoError.rawValue)
        let d = UInt32(StreamStatus.descriptorError.rawValue)
        for n in engines.indices {
            // IOCE, FEIE, DEIE (SDnCTL bits 2-4) enable BCIS, FIFOE, DESE (SDnSTS bits 2-4).
            let causes = sdValue(n, .sts) & sdValue(n, .ctl)
            let bit = UInt64(1) &<< UInt64(n)
            if causes & b != 0 { completion |= bit }
            if causes & f != 0 { fifo |= bit }
            if causes & d != 0 { descriptor |= bit }
            if causes & (b | f | d) != 0 { sis |= 1 << UInt32(n) }
        }
        let cis = controllerInterruptStatus()
        let last = enabledCauses
        if completion & ~last.completion != 0 || fifo & ~last.fifo != 0 || descriptor & ~last.descriptor != 0
            || (cis && !lastCIS) {
            interruptCausesRaised &+= 1
        }
        enabledCauses = (completion, fifo, descriptor)
        lastCIS = cis
        let intctl = values[table.intctl]
        let gis = sis != 0 || cis
        values[table.intsts] = sis | (cis ? InterruptBits.controller : 0) | (gis ? InterruptBits.global : 0)
        let enabled = (sis & intctl & InterruptBits.streamMask) != 0 || (cis && intctl & InterruptBits.controller != 0)
        let line = enabled && intctl & InterruptBits.global != 0
        if line != interruptAsserted {
            interruptAsserted = line
            interruptLineChanged?(line)
        }
    }

    // MARK: Stream descriptors

    /// SDnFIFOS follows every SDnFMT write, and on a bidirectional engine DIR whenever RUN
    /// reads 0 (a DIR written while running shows once the engine stops), by the profile's
    /// FIFO rule.
    func updateFIFOS(_ n: Int) {
        let e = engines[n]
        let output = e.kind == .output || (e.kind == .bidirectional && sdValue(n, .ctl) & StreamControl.dir != 0)
        let format = ConverterFormat(rawValue: UInt16(truncatingIfNeeded: sdValue(n, .fmt)))
        setSD(n, .fifos, UInt32(profile.fifoRule.fifos(for: format, output: output)))
    }

    /// SDnCTL: the SRST handshake, RUN, and DIR.
    ///
    /// SRST: setting it reads back 1 after the profile's `srstFrames` and resets the
    /// descriptor's registers then; clearing it reads back 0 after the same latency. While
    /// SRST reads 1 the descriptor is held in reset and ignores its other registers.
    /// Faults per descriptor: never latches, never clears.
    /// RUN 0 -> 1 fetches and validates the BDL (see `startRun`); RUN 1 -> 0 stops at the
    /// frame boundary (writes happen between frames), so RUN reads back 0 at once.
    func writeCTL(_ n: Int, old: UInt32, lanes: UInt32) {
        let e = engines[n]
        let written = values[table.sd(n, .ctl)]
        if lanes & StreamControl.srst != 0 {
            let want = written & StreamControl.srst != 0
            let latency = profile.srstFrames
            switch (e.srst, want) {
            case (.idle, true):
                if faults.srstNeverLatches.contains(n) {
                    e.srst = .latchNever
                } else if latency == 0 {
                    latchStreamReset(n)
                } else {
                    e.srst = .latchPending(frame.addingSaturated(latency))
                }
            case (.latchPending, false), (.latchNever, false):
                e.srst = .idle
            case (.latched, false):
                if faults.srstNeverClears.contains(n) {
                    e.srst = .clearNever
                } else if latency == 0 {
                    e.srst = .idle
                } else {
                    e.srst = .clearPending(frame.addingSaturated(latency))
                }
            case (.clearPending, true), (.clearNever, true):
                e.srst = .latched
            default:
                break
            }
        }
        if e.srst.inReset {
            setSD(n, .ctl, resetValues[table.sd(n, .ctl)] | StreamControl.srst)
            updateInterrupts()
            return
        }
        var ctl = written & ~StreamControl.srst
        let wasRun = old & StreamControl.run != 0
        if wasRun && ctl & StreamControl.run == 0 && faults.runNeverClears.contains(n) { ctl |= StreamControl.run }
        setSD(n, .ctl, ctl)
        let isRun = ctl & StreamControl.run != 0
        if !wasRun && isRun {
            startRun(n)
        } else if wasRun && !isRun {
            stopRun(n)
        }
        // FIFOS for the direction DIR now names, once RUN reads 0 (also right after a stop
        // or a descriptor error); while RUN reads 1 it keeps the direction latched at RUN.
        if e.kind == .bidirectional && sdValue(n, .ctl) & StreamControl.run == 0 { updateFIFOS(n) }
        updateInterrupts()
    }

    /// SRST reached 1: the descriptor's registers return to their reset values.
    func latchStreamReset(_ n: Int) {
        let e = engines[n]
        e.resetState()
        e.srst = .latched
        for reg in SDReg.allCases { setSD(n, reg, resetValues[table.sd(n, reg)]) }
        setSD(n, .ctl, resetValues[table.sd(n, .ctl)] | StreamControl.srst)
        updateInterrupts()
    }

    /// A descriptor error: DESE set, RUN cleared, the interrupt raised if DEIE.
    func descriptorError(_ n: Int) {
        let e = engines[n]
        e.running = false
        e.active = false
        e.nextEvent = .max
        e.stats.descriptorErrors += 1
        setSD(n, .ctl, sdValue(n, .ctl) & ~StreamControl.run)
        setSD(n, .sts, (sdValue(n, .sts) | UInt32(StreamStatus.descriptorError.rawValue))
              & ~UInt32(StreamStatus.fifoReady.rawValue))
        updateInterrupts()
    }

    /// RUN 0 -> 1: fetch and validate the BDL (LVI + 1 entries, never more), latch the
    /// format, tag, stripe and direction, and start moving unless SSYNC holds the engine.
    ///
    /// Descriptor errors (DESE, RUN cleared, interrupt if DEIE): the BDL or a buffer is not
    /// RAM or not 128-byte aligned; LVI = 0; an entry of length 0; CBL zero, not a whole
    /// number of sample blocks, or larger than the BDL's total length. Azalia also treats a
    /// format with a reserved MULT or BITS value as a descriptor error (there is no block
    /// size to move). BDPL's bits 6:0 are read-only 0, so the BDL is always aligned.
    ///
    /// **Decision** (reference section 1): DMA reaches guest RAM only, never the
    /// controller's own registers (every buffer and the BDL must lie wholly in RAM), and
    /// every BDL walk is bounded by LVI + 1 entries. Entries are fetched once, here.
    func startRun(_ n: Int) {
        let e = engines[n]
        let lvi = Int(sdValue(n, .lvi) & 0xFF)
        let bdl = GuestAddress(UInt64(sdValue(n, .bdpu)) << 32 | UInt64(sdValue(n, .bdpl)))
        guard lvi >= 1, bdl.isAligned(to: BDLEntry.alignment),
              memory.isRAM(bdl, length: UInt64(lvi + 1) * UInt64(BDLEntry.size)) else { return descriptorError(n) }
        var total: UInt64 = 0
        for i in 0...lvi {
            let at = bdl.rawValue + UInt64(i * BDLEntry.size)
            guard let address = try? memory.readUInt64(GuestAddress(at)),
                  let length = try? memory.readUInt32(GuestAddress(at + 8)),
                  let flags = try? memory.readUInt32(GuestAddress(at + 12)) else { return descriptorError(n) }
            let buffer = GuestAddress(address)
            guard length != 0, buffer.isAligned(to: BDLEntry.alignment),
                  let host = memory.hostPointer(buffer, length: UInt64(length)) else { return descriptorError(n) }
            e.entryLength[i] = UInt64(length)
            e.entryIOC[i] = flags & 1 != 0
            e.entryHost[i] = host
            total += UInt64(length)
        }
        let format = ConverterFormat(rawValue: UInt16(truncatingIfNeeded: sdValue(n, .fmt)))
        guard format.multField <= 3, format.bitsField <= 4 else { return descriptorError(n) }
        let bits = StreamFormat.legalSampleBits[Int(format.bitsField)]
        let blockBytes = Int(format.channels) * Int(StreamFormat.container(forBits: bits) / 8)
        let cbl = UInt64(sdValue(n, .cbl))
        guard cbl > 0, cbl % UInt64(blockBytes) == 0, cbl <= total else { return descriptorError(n) }

        e.entryCount = lvi + 1
        e.cbl = cbl
        e.format = format
        e.cadence = LinkCadence(format.rateEncoding)
        e.blockBytes = blockBytes
        e.bitsPerBlock = Int(format.channels) * Int(bits)
        let ctl = StreamControl(rawValue: sdValue(n, .ctl))
        e.tag = ctl.streamTag
        e.output = e.kind == .output || (e.kind == .bidirectional && ctl.directionOutput)
        e.stripeLines = e.output ? min(ctl.stripe.lineCount, profile.sdoLines) : 1
        e.lpib = UInt64(sdValue(n, .lpib))
        if e.lpib >= cbl || e.lpib % UInt64(blockBytes) != 0 { e.lpib = 0 }
        setSD(n, .lpib, UInt32(e.lpib))
        e.locatePosition()
        e.gathered = 0
        e.scatterLeft = 0
        if faults.fifoNeverReady.contains(n) { return }   // injected: RUN accepted, FIFORDY never comes
        e.running = true
        e.fifoErrorPending = faults.fifoErrors.contains(n)
        e.stats.runs += 1
        setSD(n, .sts, sdValue(n, .sts) | UInt32(StreamStatus.fifoReady.rawValue))
        refreshActive(n)
    }

    /// RUN 1 -> 0: the engine stops at the frame boundary, keeping its position.
    func stopRun(_ n: Int) {
        let e = engines[n]
        e.running = false
        e.active = false
        e.nextEvent = .max
        setSD(n, .sts, sdValue(n, .sts) & ~UInt32(StreamStatus.fifoReady.rawValue))
    }

    /// An engine moves when RUN was accepted and its SSYNC bit is clear. Becoming active
    /// starts the cadence at the current frame, so engines released by one SSYNC write
    /// start on the same frame.
    func refreshActive(_ n: Int) {
        let e = engines[n]
        let held = values[table.ssync] & (1 << UInt32(n)) != 0
        let shouldMove = e.running && !held
        if shouldMove && !e.active {
            e.active = true
            e.runStart = frame
            e.blocksDone = 0
            e.computeNextEvent(now: frame)
        } else if !shouldMove && e.active {
            e.active = false
            e.nextEvent = .max
        }
    }

    /// SSYNC: a set bit holds its engine (FIFORDY stays 1); clearing bits in one write
    /// starts those engines on the same frame.
    func writeSSYNC(old: UInt32) {
        for n in engines.indices where engines[n].running { refreshActive(n) }
    }

    // MARK: Observability

    /// Counters of descriptor `n`'s engine.
    public func statistics(ofDescriptor n: Int) -> EngineStatistics {
        engines.indices.contains(n) ? engines[n].stats : EngineStatistics()
    }

    /// True while descriptor `n`'s engine moves samples (RUN accepted, SSYNC clear).
    public func isMoving(descriptor n: Int) -> Bool {
        engines.indices.contains(n) && engines[n].active
    }

    /// Sample bytes moved by all engines.
    public var totalBytesMoved: UInt64 { engines.reduce(0) { $0 + $1.stats.bytesMoved } }

    /// Checks the controller's internal invariants; traps when one is broken (for tests).
    public func _checkInvariants() {
        precondition(values.count == table.specs.count)
        for (i, spec) in table.specs.enumerated() {
            precondition(spec.width == 4 || values[i] >> (8 * UInt32(spec.width)) == 0, "\(spec.name) wider than itself")
        }
        precondition(inReset == (values[table.gctl] & GlobalControl.crst == 0))
        for e in engines {
            let n = e.index
            precondition(!e.active || e.running)
            precondition(e.srst.inReset == (sdValue(n, .ctl) & StreamControl.srst != 0))
            // RUN reads 1 exactly while the engine runs, except where the fifoNeverReady fault
            // holds an accepted RUN that never got FIFORDY.
            precondition(e.running == (sdValue(n, .ctl) & StreamControl.run != 0)
                         || (!e.running && faults.fifoNeverReady.contains(n)))
            precondition(e.running == (sdValue(n, .sts) & UInt32(StreamStatus.fifoReady.rawValue) != 0))
            if e.running {
                precondition(e.entryCount >= 2 && e.entryCount <= BDLEntry.maxEntries)
                precondition(e.entry < e.entryCount && e.entryOffset < e.entryLength[e.entry])
                precondition(e.lpib < e.cbl && UInt64(sdValue(n, .lpib)) == e.lpib)
                var before: UInt64 = 0
                for i in 0..<e.entry { before += e.entryLength[i] }
                precondition(before + e.entryOffset == e.lpib, "entry position disagrees with LPIB")
                precondition(e.gathered == 0 && e.scatterLeft == 0)
            }
            // At the end of 64-bit time events saturate at UInt64.max and never come.
            if e.active { precondition(e.nextEvent > frame || frame == .max) }
        }
        var copy = values
        let line = interruptAsserted
        updateInterrupts()
        precondition(copy[table.intsts] == values[table.intsts] && line == interruptAsserted, "stale INTSTS")
        copy = []
        memory._checkInvariants()
    }
}

extension UInt64 {
    /// `self + other`, saturating at `UInt64.max`: a latency that would end past the end of
    /// 64-bit link time never completes instead of trapping.
    @inline(__always) func addingSaturated(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
