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
