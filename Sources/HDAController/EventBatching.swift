import HDAudio

/// Link time: advancing from event to event (entry boundary, IOC, wrap, latency) and running
/// the active engines over each batch.
extension HDAController {
    /// Moves link time forward by `frames` frames, in batches from event to event.
    public func advance(frames: UInt64) {
        _ = advance(frames: frames, stopAtInterrupt: false)
    }

    /// Moves link time forward by up to `frames` frames and returns the frames advanced.
    ///
    /// Time jumps from event to event: a BDL entry boundary (IOC, wrap), a pending CRST,
    /// SRST or codec-wake latency, a FIFO error due, a CORB verb. Register writes (RUN,
    /// SSYNC) happen between calls. Sample bytes move in bulk, straight between guest RAM
    /// and the codecs; every result (bytes delivered, LPIB, position buffer, status bits,
    /// interrupt timing) is identical, frame for frame, to advancing one frame at a time.
    /// With `stopAtInterrupt`, returns right after any frame that raises a new interrupt
    /// cause (a status bit newly set whose interrupt is enabled, or CIS newly set) while the
    /// line is asserted, not only when the line rises: an IOC that follows another still
    /// pending interrupt is its own stop, so a caller can deliver every interrupt, to the
    /// frame, outside any lock (reference sections 4 and 6). Causes are only raised at
    /// event frames, which end batches, so the check is one comparison per batch.
    public func advance(frames: UInt64, stopAtInterrupt: Bool) -> UInt64 {
        var done: UInt64 = 0
        var line = interruptAsserted
        var causes = interruptCausesRaised
        // Whoever looks next (a register access, the ISR, a memory read) sees every engine
        // at the current frame.
        defer { if done > 0 { catchUpEngines() } }
        // Engines whose DMA meets in memory go frame by frame (see `dmaAliased`). Only a
        // register write can start an engine, move a buffer or the position buffer, so the
        // answer holds for the whole call.
        let stepwise = dmaAliased()
        while done < frames {
            let (sum, overflow) = frame.addingReportingOverflow(stepwise ? 1 : frames - done)
            var target = overflow ? UInt64.max : sum
            if let t = crstExitAt { target = min(target, t) }
            if let t = codecWakeAt { target = min(target, t) }
            target = min(target, schedule.earliest)
            let command = nextCommandFrame()
            if let t = command { target = min(target, t) }
            guard target > frame else { break }   // only at the end of 64-bit time
            let start = frame
            // The engines with an event at the batch's end (a DMA event or an SRST latency):
            // the only ones whose registers or status bits the batch can change.
            let due = schedule.due(atOrBefore: target)
            // With nothing in flight, queued or left over, the command path has no work in
            // this batch (`runCommandRings` would find none), however long it is.
            let commandIdle = command == nil && !corb.hasUnsolicited
            runFrames(from: start, to: target, due: due, commandIdle: commandIdle)
            frame = target
            done += target - start
            let latencies = processDue(due)
            // Interrupt causes change only where the batch did something: a due engine, the
            // command path, a latency that completed (CRST exit, codec wake's STATESTS).
            if due != 0 || !commandIdle || latencies { updateInterrupts(engines: due) }
            if stepwise { catchUpEngines() }
            if stopAtInterrupt && interruptAsserted && (!line || causes != interruptCausesRaised) { return done }
            line = interruptAsserted
            causes = interruptCausesRaised
        }
        return done
    }

    /// Latencies that complete at the current frame; true when one did. `due` holds the
    /// engines the schedule found due at this frame before the batch ran (an engine with an
    /// SRST latency is inactive, so the batch did not move its key).
    func processDue(_ due: UInt64) -> Bool {
        var completed = false
        if let t = crstExitAt, t <= frame {
            leaveReset()
            completed = true
        }
        if let t = codecWakeAt, t <= frame {
            wakeCodecs()
            completed = true
        }
        for n in due.setBits {
            let e = engines[n]
            switch e.srst {
            case .latchPending(let t) where t <= frame:
                // An engine still running when its SRST latches has, stepping one frame at a
                // time, moved its samples up to the frame before the latch; one left behind by
                // the batch gets there first (with the others, outputs first, in case its
                // codec's input follows their output).
                if e.active && e.syncedTo < frame - 1 { catchUpLagging(to: frame - 1) }
                latchStreamReset(e.index)
            case .clearPending(let t) where t <= frame:
                e.srst = .idle
                setSD(e.index, .ctl, resetValues[table.sd(e.index, .ctl)])
            default:
                break
            }
        }
        return completed
    }

    /// Runs frames [from, to): no event falls strictly inside.
    ///
    /// Only the engines whose own event is due at `end` run now; the others lag behind and
    /// catch up when their event comes, when a verb goes to a codec, or when `advance`
    /// returns (`catchUpEngines`), in one move over the frames they skipped. Nothing outside
    /// an engine can see it between two of its events inside one `advance` call: its status
    /// bits change only at its events (IOC, FIFO error, wrap), registers and guest memory are
    /// read between calls, a codec has every frame before a verb's before it takes the verb,
    /// and the position buffer is written when every engine has caught up. A batch therefore
    /// costs the engines it concerns, not all of them, and staggered engines cost their
    /// own events only. Output engines still run before input engines: when an input
    /// engine is due and a codec's input may follow its output (`LinkCodec.linkInputFollowsOutput`),
    /// every output engine first catches up to the same frame, so a codec that loops its
    /// DAC back into its ADC has the output of each frame before it is asked for that
    /// frame's input, however time is batched.
    /// `due` holds the engines the schedule found due at `end` (one bit per engine); only
    /// those run, in descriptor order, outputs first. `commandIdle` says the command path
    /// has nothing to do in the batch, so it is not visited.
    func runFrames(from start: UInt64, to end: UInt64, due: UInt64, commandIdle: Bool) {
        let count = end - start
        if !commandIdle {
            // A verb that leaves the CORB (or the immediate command) in frame `start` may change
            // what a converter does with the stream data of that frame on (SET_STREAM,
            // SET_FORMAT, power), and the CORB is read from guest memory, where the position
            // buffer may lie. Stepping one frame at a time, every engine has delivered the
            // frames before `start` and the position buffer shows `start` when the verb goes
            // out, so the lagging engines get there and the position buffer is written first
            // here too. The batch is one frame long, so this is at most once per verb.
            catchUpLagging(to: start)
            writePositionBuffer()
        }
        if !inReset { values[table.walclk] &+= UInt32(truncatingIfNeeded: count &* LinkTiming.bitClocksPerFrame) }
        var outputs: UInt64 = 0, inputs: UInt64 = 0
        for n in due.setBits {
            let e = engines[n]
            guard e.active, e.nextEvent <= end else { continue }   // due for its SRST only
            if e.output { outputs |= 1 << UInt64(n) } else { inputs |= 1 << UInt64(n) }
        }
        if inputs != 0 && inputFollowsOutput {
            for n in schedule.active.setBits where engines[n].output { catchUp(engines[n], to: end) }
        } else {
            for n in outputs.setBits { catchUp(engines[n], to: end) }
        }
        for n in inputs.setBits { catchUp(engines[n], to: end) }
        if !commandIdle { runCommandRings(from: start, to: end) }
    }

    /// Brings the active engines that stand before `frame` up to it, outputs first.
    private func catchUpLagging(to frame: UInt64) {
        let active = schedule.active
        guard active != 0 else { return }
        for n in active.setBits where engines[n].output && engines[n].syncedTo < frame { catchUp(engines[n], to: frame) }
        for n in active.setBits where !engines[n].output && engines[n].syncedTo < frame { catchUp(engines[n], to: frame) }
    }

    /// Brings every active engine up to the current frame and writes the position buffer:
    /// the state every frame-by-frame run would show now.
    func catchUpEngines() {
        catchUpLagging(to: frame)
        writePositionBuffer()
    }

    /// Runs one active engine from where it stands to frame `end`.
    @inline(__always) private func catchUp(_ e: StreamEngine, to end: UInt64) {
        runEngine(e, from: e.syncedTo, to: end)
        e.syncedTo = end
    }

    /// Runs one active engine over frames [from, to).
    private func runEngine(_ e: StreamEngine, from start: UInt64, to end: UInt64) {
        let r0 = start - e.runStart, r1 = end - e.runStart
        // The engine has moved exactly the cadence's blocks before r0 (checkInvariants).
        let blocks = e.cadence.blocks(before: r1) - e.blocksDone
        if blocks > 0 { move(e, blocks: blocks, relativeStart: r0) }
        if e.fifoErrorPending {
            e.fifoErrorPending = false
            e.stats.fifoErrors += 1
            setSD(e.index, .sts, sdValue(e.index, .sts) | UInt32(StreamStatus.fifoError.rawValue))
        }
        setSD(e.index, .lpib, UInt32(truncatingIfNeeded: e.lpib))
        if end >= e.nextEvent { e.computeNextEvent(now: end) }
    }

    /// DPLBASE bit 0: each descriptor's position (its LPIB) at DPLBASE + index x 8, once
    /// per frame; in a batch only the last frame's value can be seen, so it is written once.
    /// A buffer that is not RAM is not written (DMA reaches RAM only) and is counted.
}
