import HDAudio

/// Observability: per-engine statistics, whether an engine moves, and the invariant check.
extension HDAController {

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

    /// The controller's internal invariants that do not hold, in words (empty when all hold):
    /// register widths, CRST and SRST against their state, RUN and FIFORDY against the
    /// engine, BDL position against LPIB, event times, INTSTS against its causes, and guest
    /// memory's own. Checking never changes the state it checks.
    public func checkInvariants() -> [String] {
        var problems: [String] = []
        func check(_ holds: Bool, _ what: @autoclosure () -> String) { if !holds { problems.append(what()) } }
        check(values.count == table.specs.count, "register table size")
        for (i, spec) in table.specs.enumerated() {
            check(spec.width == 4 || values[i] >> (8 * UInt32(spec.width)) == 0, "\(spec.name) wider than itself")
        }
        check(inReset == (values[table.gctl] & GlobalControl.crst == 0), "CRST disagrees with the reset state")
        for e in engines {
            let n = e.index
            check(!e.active || e.running, "engine \(n) active but not running")
            check(e.srst.inReset == (sdValue(n, .ctl) & StreamControl.srst != 0), "engine \(n): SRST disagrees with its phase")
            // RUN reads 1 exactly while the engine runs, except for an accepted RUN that never got
            // FIFORDY (the fifoNeverReady fault, in force when RUN was written: lifting the fault
            // later does not bring FIFORDY to a RUN already accepted).
            check(e.running == (sdValue(n, .ctl) & StreamControl.run != 0) || (!e.running && e.awaitingFifoReady),
                  "engine \(n): RUN disagrees with the engine")
            check(e.running == (sdValue(n, .sts) & UInt32(StreamStatus.fifoReady.rawValue) != 0), "engine \(n): FIFORDY disagrees with the engine")
            if e.running {
                check(e.entryCount >= 2 && e.entryCount <= BDLEntry.maxEntries, "engine \(n): \(e.entryCount) BDL entries")
                check(e.entry < e.entryCount && e.entryOffset < e.entryLength[e.entry], "engine \(n): position outside its entry")
                check(e.lpib < e.cbl && UInt64(sdValue(n, .lpib)) == e.lpib, "engine \(n): LPIB \(e.lpib) of CBL \(e.cbl)")
                var before: UInt64 = 0
                for i in 0..<min(e.entry, e.entryCount) { before += e.entryLength[i] }
                check(before + e.entryOffset == e.lpib, "engine \(n): entry position disagrees with LPIB")
                check(e.gathered == 0 && e.scatterLeft == 0, "engine \(n): a partial block left between batches")
            }
            if e.active {
                check(e.blocksDone == e.cadence.blocks(before: e.syncedTo - e.runStart),
                      "engine \(n): \(e.blocksDone) blocks moved, the cadence has \(e.cadence.blocks(before: e.syncedTo - e.runStart))")
            }
            // At the end of 64-bit time events saturate at UInt64.max and never come.
            if e.active { check(e.nextEvent > frame || frame == .max, "engine \(n): its next event is in the past") }
            check(schedule.keys[n] == e.scheduledFrame, "engine \(n): the schedule has \(schedule.keys[n]), the engine \(e.scheduledFrame)")
            check((schedule.active >> UInt64(n)) & 1 == (e.active ? 1 : 0), "engine \(n): the schedule's active set disagrees with the engine")
        }
        check(schedule.isConsistent, "the event schedule is out of heap order")
        var copy = values
        let line = interruptAsserted
        updateInterrupts()
        check(copy[table.intsts] == values[table.intsts] && line == interruptAsserted, "stale INTSTS")
        copy = []
        return problems + memory.checkInvariants()
    }
}
