import HDAudio

/// Engines whose DMA meets in guest memory: one writing bytes that another reads or also
/// writes (an input engine recording into the pages an output engine plays, two inputs on
/// the same pages, the position buffer inside a buffer). Only a hostile or broken driver
/// does this, and the hardware then interleaves the accesses frame by frame. Batching moves
/// each engine's frames in one piece, which would order them differently, so while such
/// engines run, `advance` goes one frame at a time with every engine caught up after each,
/// exactly as stepping does.
extension HDAController {
    /// What the answer depends on: the active engines, the position buffer's registers, and
    /// the BDL fetches (an engine's buffers change only when RUN fetches its BDL).
    struct AliasingKey: Equatable {
        var active: UInt64
        var dpl: UInt32
        var dpu: UInt32
        var fetches: UInt64
    }

    /// True when the active engines' DMA meets in guest memory (see above); recomputed only
    /// when the active engines, the position buffer or a BDL changed.
    func dmaAliased() -> Bool {
        let key = AliasingKey(active: schedule.active, dpl: values[table.dplbase], dpu: values[table.dpubase], fetches: bdlFetches)
        if let cached = aliasing, cached.key == key { return cached.aliased }
        let aliased = computeAliasing()
        aliasing = (key, aliased)
        return aliased
    }

    /// Every active engine's buffers (read by outputs, written by inputs) and the position
    /// buffer (written), swept in address order: a range that starts before an earlier
    /// written range ends, or a written range that starts before an earlier read range
    /// ends, is a meeting. Reads that meet reads are harmless. An input engine whose own
    /// entries overlap counts too (its order within the engine would not change, so this
    /// only costs it the batching).
    private func computeAliasing() -> Bool {
        var ranges: [(start: UInt, end: UInt, writes: Bool)] = []
        for n in schedule.active.setBits {
            let e = engines[n]
            for i in 0..<e.entryCount {
                guard let host = e.entryHost[i] else { continue }
                let start = UInt(bitPattern: host)
                ranges.append((start, start + UInt(e.entryLength[i]), !e.output))
            }
        }
        if let base = positionBufferBase, let host = memory.hostPointer(base, length: UInt64(positionBufferBytes)) {
            let start = UInt(bitPattern: host)
            ranges.append((start, start + UInt(positionBufferBytes), true))
        }
        guard ranges.contains(where: \.writes) else { return false }
        ranges.sort { $0.start < $1.start }
        var writtenTo: UInt = 0, readTo: UInt = 0
        for r in ranges {
            if writtenTo > r.start || (r.writes && readTo > r.start) { return true }
            if r.writes { writtenTo = max(writtenTo, r.end) } else { readTo = max(readTo, r.end) }
        }
        return false
    }
}
