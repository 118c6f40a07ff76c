import HDAudio

/// Stream descriptor side effects: FIFOS, SDnCTL writes (SRST, RUN, DIR), SRST latching,
/// descriptor errors, RUN cleared, and SSYNC.
extension HDAController {

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
            updateInterrupts(engine: n)
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
        // The interrupt enables (IOCE, FEIE, DEIE), RUN and SRST live in byte 0; a write that
        // leaves it alone (the tag, stripe and DIR byte) changes no interrupt cause.
        if lanes & 0xFF != 0 { updateInterrupts(engine: n) }
    }

    /// SRST reached 1: the descriptor's registers return to their reset values.
    func latchStreamReset(_ n: Int) {
        let e = engines[n]
        e.resetState()
        e.srst = .latched
        for reg in SDReg.allCases { setSD(n, reg, resetValues[table.sd(n, reg)]) }
        setSD(n, .ctl, resetValues[table.sd(n, .ctl)] | StreamControl.srst)
        updateInterrupts(engine: n)
    }

    /// A descriptor error: DESE set, RUN cleared, the interrupt raised if DEIE.
    func descriptorError(_ n: Int) {
        let e = engines[n]
        e.running = false
        e.awaitingFifoReady = false
        e.active = false
        e.nextEvent = .max
        e.stats.descriptorErrors += 1
        setSD(n, .ctl, sdValue(n, .ctl) & ~StreamControl.run)
        setSD(n, .sts, (sdValue(n, .sts) | UInt32(StreamStatus.descriptorError.rawValue))
              & ~UInt32(StreamStatus.fifoReady.rawValue))
        updateInterrupts(engine: n)
    }

    func stopRun(_ n: Int) {
        let e = engines[n]
        e.running = false
        e.awaitingFifoReady = false
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
            e.syncedTo = frame
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
}
