public import HDAudio
import Synchronization

/// Inspection: resources and the invariant check.
extension HDAudioBus {

    /// Runs `body` on the bus state for an entry point outside the DDI routines. Like the
    /// PASSIVE_LEVEL routines, it refuses with STATUS_UNSUCCESSFUL above PASSIVE_LEVEL (from a BDL
    /// ISR, a notification callback or an event at DISPATCH_LEVEL): the bus may be holding its
    /// lock in a stall on this very thread, and would otherwise take it again. At PASSIVE_LEVEL it
    /// first carries out closes requested above it, as the DDI routines do, so what it shows never
    /// includes a closed client's engines.
    func inspecting<R>(_ body: (inout BusState) -> R) throws(NTStatus) -> R {
        try require(.passive)
        guard !BusLockContext.held else { throw .unsuccessful }
        runPendingCloses()
        return state.withLock { body(&$0) }
    }

    /// A snapshot of engines, tags and link budgets. STATUS_UNSUCCESSFUL above PASSIVE_LEVEL.
    public func resources() throws(NTStatus) -> BusResources {
        try inspecting { s in
            let sdoBudget = LinkBudget.sdoLineBudget(outpay: configuration.outpay)
            let sdiBudget = LinkBudget.sdiLineBudget(inpay: configuration.inpay)
            var tags: [StreamDirection: Set<UInt8>] = [.render: [], .capture: []]
            for d in StreamDirection.allCases {
                for t in HDAudioBus.tagRange where s.tagsInUse[d, default: 0] & (1 << UInt16(t)) != 0 { tags[d]!.insert(t) }
            }
            let engines = s.engines.compactMap { slot -> EngineSummary? in
                guard let a = slot.allocation else { return nil }
                return EngineSummary(index: slot.index, kind: slot.kind, direction: a.direction, tag: a.tag,
                                     format: a.format, stripeLines: a.charge.sdoLines,
                                     bitsPerLine: a.direction == .render ? a.charge.sdoBitsPerLine : a.charge.sdiBits,
                                     sdiLine: a.direction == .capture ? a.charge.sdiLine : nil,
                                     state: a.state, hasBuffer: a.buffer != nil)
            }
            return BusResources(sdo: s.sdoUsed.map { BudgetUse(used: $0, budget: sdoBudget) },
                                sdi: s.sdiUsed.map { BudgetUse(used: $0, budget: sdiBudget) },
                                tags: tags, engines: engines)
        }
    }

    /// Checks the bookkeeping: line use equals the sum of the engines' charges, tags are
    /// unique per direction and match the engines, no budget is exceeded, every pending
    /// interrupt target belongs to an engine. Returns the problems found (empty when sound).
    /// STATUS_UNSUCCESSFUL above PASSIVE_LEVEL.
    public func checkInvariants() throws(NTStatus) -> [String] {
        try inspecting { s in
            var problems: [String] = []
            var sdo = Array(repeating: 0, count: s.sdoUsed.count)
            var sdi = Array(repeating: 0, count: s.sdiUsed.count)
            var tags: [StreamDirection: UInt16] = [.render: 0, .capture: 0]
            for slot in s.engines {
                guard let a = slot.allocation else { continue }
                if !s.openClients.keys.contains(a.client) { problems.append("engine \(slot.index) held by closed client \(a.client)") }
                for line in 0..<a.charge.sdoLines { sdo[line] += a.charge.sdoBitsPerLine }
                if a.charge.sdiBits > 0 { sdi[a.charge.sdiLine] += a.charge.sdiBits }
                let bit = UInt16(1) << UInt16(a.tag)
                if !HDAudioBus.tagRange.contains(a.tag) { problems.append("engine \(slot.index) has tag \(a.tag)") }
                if tags[a.direction]! & bit != 0 { problems.append("tag \(a.tag) twice for \(a.direction)") }
                tags[a.direction]! |= bit
                if slot.kind == .input && a.direction == .render || slot.kind == .output && a.direction == .capture {
                    problems.append("engine \(slot.index) of kind \(slot.kind) used for \(a.direction)")
                }
            }
            if sdo != s.sdoUsed { problems.append("SDO use \(s.sdoUsed) but engines hold \(sdo)") }
            if sdi != s.sdiUsed { problems.append("SDI use \(s.sdiUsed) but engines hold \(sdi)") }
            if tags != s.tagsInUse { problems.append("tags in use \(s.tagsInUse) but engines hold \(tags)") }
            let sdoBudget = LinkBudget.sdoLineBudget(outpay: configuration.outpay)
            let sdiBudget = LinkBudget.sdiLineBudget(inpay: configuration.inpay)
            if s.sdoUsed.contains(where: { $0 > sdoBudget || $0 < 0 }) { problems.append("SDO over budget: \(s.sdoUsed)") }
            if s.sdiUsed.contains(where: { $0 > sdiBudget || $0 < 0 }) { problems.append("SDI over budget: \(s.sdiUsed)") }
            let targets = interruptTargets.withLock { $0 }
            for (i, _) in targets where s.engines[i].allocation == nil { problems.append("interrupt target for free engine \(i)") }
            return problems
        }
    }
}
