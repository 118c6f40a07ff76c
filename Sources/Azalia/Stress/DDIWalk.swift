import Dispatch
import Foundation
import HDAController
import HDACodec
import HDAudio
import HDAudioBus
import Synchronization

/// The model-based walk over the DDI: clients of every version call every routine with
/// good, stale, foreign and forged handles at every IRQL while faults and page limits change
/// between calls; the model knows which handles each client holds and what it freed.
struct DDIWalk {
    struct Model {
        var client: OpenInterface
        var live: [DmaEngineHandle] = []
        var freed: [DmaEngineHandle] = []
        var events: [DmaEngineHandle: [NotificationEvent]] = [:]
        var mdls: [DmaEngineHandle: MemoryDescriptorList] = [:]
    }

    var rng: StressRandom
    /// Statuses seen inside callbacks (ISRs, event and verb callbacks) that are not documented there.
    let callbackProblems = PThreadMutex<[String]>([])
    init(seed: UInt64) { rng = StressRandom(seed: seed) }
    init(input: [UInt8]) { rng = StressRandom(input: input) }

    mutating func format() -> StreamFormat {
        if rng.oneIn(8) {
            return StreamFormat(sampleRate: UInt32(truncatingIfNeeded: rng.edgy(max: UInt64(UInt32.max))),
                                validBitsPerSample: UInt16(truncatingIfNeeded: rng.edgy(max: 64)),
                                containerSize: UInt16(truncatingIfNeeded: rng.edgy(max: 64)),
                                numberOfChannels: UInt16(truncatingIfNeeded: rng.edgy(max: 32)))
        }
        return StreamFormat(rate: rng.pick([8000, 44100, 48000, 96000, 192_000]), bits: rng.pick([8, 16, 20, 24, 32]),
                            channels: UInt16(1 + rng.below(rng.oneIn(4) ? 16 : 2)))
    }

    mutating func size() -> Int {
        rng.oneIn(6) ? Int(truncatingIfNeeded: rng.edgy(max: UInt64(Int.max))) * (rng.oneIn(4) ? -1 : 1) : 1 + rng.below(40_000)
    }

    /// A handle for a call by `models[i]`: its own live one mostly, else stale, foreign or forged.
    mutating func handle(_ models: [Model], _ i: Int) -> (DmaEngineHandle, mustBeInvalid: Bool) {
        let m = models[i]
        switch rng.below(10) {
        case 0 where !m.freed.isEmpty:
            let h = rng.pick(m.freed)
            return (h, !m.live.contains(h))
        case 1:
            let others = models.indices.filter { $0 != i }.flatMap { models[$0].live }
            if let h = others.isEmpty ? nil : rng.pick(others) { return (h, true) }
            fallthrough
        case 2:
            let h = DmaEngineHandle(rawValue: UInt(truncatingIfNeeded: rng.next()))
            return (h, !m.live.contains(h))
        default:
            if let h = m.live.isEmpty ? nil : rng.pick(m.live) { return (h, false) }
            return (DmaEngineHandle(rawValue: 0), true)
        }
    }

    mutating func makeSystem() throws(StressViolation) -> AzaliaSystem {
        var codecs: [Int: any LinkCodec] = [:]
        for a in 0..<3 where rng.below(3) != 0 { codecs[a] = VirtualCodec(address: UInt8(a)) }
        do { return try AzaliaSystem(profile: rng.pick(ControllerProfile.all), memoryPages: 512, codecs: codecs) } catch {
            throw StressViolation(step: 0, message: "system did not start: \(error)")
        }
    }

    mutating func run(steps: Int, counts: inout [String: Int], progress: ((Int) -> Void)?) throws(StressViolation) {
        var system = try makeSystem()
        var baseline = system.allocatedPages
        var models: [Model] = []
        var closePending = false
        for step in 0..<steps {
            if rng.exhausted { break }
            if step % 2000 == 1999 {
                try finish(system, &models, baseline: baseline, step: step)
                system = try makeSystem()
                baseline = system.allocatedPages
            }
            try self.step(system, &models, step: step, counts: &counts, closePending: &closePending, alone: true)
            if step % 256 == 0 { progress?(step) }
        }
        try finish(system, &models, baseline: baseline, step: steps)
        progress?(steps)
    }

    /// The walk on `threads` threads at once: each runs its own clients on the same bus, with
    /// the checks after every step that hold whatever the other threads do; after each round of
    /// 2,000 steps per thread every client closes and everything must be back, then a new system.
    /// The threads interleave differently on each run, so a failure names its thread and round.
    static func runThreaded(seed: UInt64, steps: Int, threads: Int, counts: inout [String: Int],
                            progress: ((Int) -> Void)?) throws(StressViolation) {
        let perRound = 2000 * threads
        var done = 0, round: UInt64 = 0
        while done < steps {
            var roundSeed = SeededRandom(seed: seed ^ (round << 32))
            var setup = DDIWalk(seed: roundSeed.next())
            let system = try setup.makeSystem()
            let baseline = system.allocatedPages
            let n = min(perRound, steps - done)
            let results = PThreadMutex<[(models: [Model], counts: [String: Int], failure: StressViolation?)]>([])
            let group = DispatchGroup()
            for t in 0..<threads {
                let share = n / threads + (t < n % threads ? 1 : 0)
                var threadRandom = SeededRandom(seed: seed ^ (round << 32) ^ UInt64(t + 1))
                let threadSeed = threadRandom.next()
                let first = done, thisRound = round
                group.enter()
                // The thread's walk runs in a function of its own, so that when the thread
                // leaves the group it holds no interface any more (its models are in `results`):
                // once the main thread goes on, nothing of the bus lives on a finishing thread.
                @Sendable func walkShare() -> (models: [Model], counts: [String: Int], failure: StressViolation?) {
                    var walk = DDIWalk(seed: threadSeed)
                    var models: [Model] = [], counts: [String: Int] = [:], closePending = false
                    do throws(StressViolation) {
                        for k in 0..<share {
                            try walk.step(system, &models, step: first + k, counts: &counts, closePending: &closePending, alone: false)
                        }
                    } catch {
                        return (models, counts, StressViolation(step: error.step, message: "thread \(t) of \(threads), round \(thisRound): \(error.message)"))
                    }
                    return (models, counts, nil)
                }
                Thread {
                    results.withLock { $0.append(walkShare()) }
                    group.leave()
                }.start()
            }
            group.wait()
            var models: [Model] = []
            // The results are taken out, not copied: each thread's closure holds `results`
            // until Foundation releases the finished Thread, which can come after this
            // function has returned or even after the process exits; a copy left there kept
            // the models' (closed) connections allocated, which LeakSanitizer reported at
            // exit as leaked: it cannot see a pointer held in a multi-payload enum such as
            // `OpenInterface`, whose case sits in the pointer's spare bits.
            let all = results.withLock { r in
                defer { r = [] }
                return r
            }
            for r in all {
                models += r.models
                counts.merge(r.counts, uniquingKeysWith: +)
            }
            if let failure = all.compactMap(\.failure).min(by: { $0.step < $1.step }) { throw failure }
            done += n
            try setup.finish(system, &models, baseline: baseline, step: done)
            counts["threads: rounds", default: 0] += 1
            round += 1
            progress?(done)
        }
    }

    /// One random call and the checks after it. `alone` is false while other threads use the
    /// same bus: a refused call's bus-wide "changed nothing" cannot be seen then (they change it).
    mutating func step(_ system: AzaliaSystem, _ models: inout [Model], step: Int, counts: inout [String: Int],
                       closePending: inout Bool, alone: Bool) throws(StressViolation) {
        let before = alone ? try? system.bus.resources() : nil
        let pagesBefore = system.allocatedPages
        let irql: IRQL = rng.below(10) == 0 ? rng.pick([.dispatch, .dirql]) : .passive
        let (name, status, mustBeInvalid) = try call(system, &models, irql: irql, step: step, closePending: &closePending)
        counts[name, default: 0] += 1
        if let status {
            counts[name + " " + status.description, default: 0] += 1
            guard status != .success else { throw StressViolation(step: step, message: "\(name) threw STATUS_SUCCESS") }
            if mustBeInvalid && irql == .passive && status != .invalidHandle {
                throw StressViolation(step: step, message: "\(name) with a stale, foreign or forged handle: \(status)")
            }
            if irql > .dispatch && status != .unsuccessful && name != "close" {
                throw StressViolation(step: step, message: "\(name) at DIRQL: \(status)")
            }
            // A refused call changes nothing (SetDmaEngineState's DEVICE_NOT_READY is documented to;
            // stream states may move meanwhile from callbacks, so engines are compared without them).
            if !closePending, !(name == "SetDmaEngineState" && status == .deviceNotReady), !name.contains(" after "),
               let before, irql == .passive, DDIWalk.holdings(try? system.bus.resources()) != DDIWalk.holdings(before)
                || system.allocatedPages != pagesBefore {
                let after = DDIWalk.holdings(try? system.bus.resources()), was = DDIWalk.holdings(before)
                throw StressViolation(step: step, message: "\(name) refused with \(status) but changed the bus: "
                    + "\(was.filter { !after.contains($0) }) became \(after.filter { !was.contains($0) }), pages \(pagesBefore) to \(system.allocatedPages)")
            }
        } else if mustBeInvalid {
            throw StressViolation(step: step, message: "\(name) accepted a stale, foreign or forged handle")
        }
        if closePending, irql == .passive {
            // A close requested above PASSIVE_LEVEL is carried out by the next PASSIVE routine
            // that takes the bus lock: run one (a forged handle) so the next step starts clean.
            let probe = try? system.openInterface(codecAddress: 0, version: .base)
            _ = try? probe?.freeDmaEngine(DmaEngineHandle(rawValue: 0))
            probe?.close()
            closePending = false
        }
        let problems = ((try? system.bus.checkInvariants()) ?? ["checkInvariants refused at PASSIVE_LEVEL"])
            + system.platform.withController { $0.checkInvariants() } + callbackProblems.withLock { p in defer { p = [] }; return p }
        guard problems.isEmpty else { throw StressViolation(step: step, message: problems.joined(separator: "; ")) }
    }

    /// What a snapshot says is held: engines (without their stream state), tags and bandwidth.
    static func holdings(_ r: BusResources?) -> [String] {
        guard let r else { return ["refused"] }
        return r.engines.map { "\($0.index) \($0.direction) \($0.tag) \($0.format) \($0.hasBuffer)" }
            + ["SDO \(r.sdo.map(\.used)) SDI \(r.sdi.map(\.used))"]
            + StreamDirection.allCases.map { "\($0) tags \((r.tags[$0] ?? []).sorted())" }
    }

    /// Closes every client: everything must come back.
    func finish(_ system: AzaliaSystem, _ models: inout [Model], baseline: Int, step: Int) throws(StressViolation) {
        system.setFaults(FaultInjection())
        system.setPageLimit(nil)
        for m in models { m.client.common.close() }
        models = []
        _ = try? system.bus.rescanCodecs()   // a PASSIVE routine: runs deferred closes
        let engines = (try? system.bus.resources())?.engines.count ?? -1
        guard engines == 0, system.allocatedPages == baseline else {
            throw StressViolation(step: step, message: "after every client closed: \(engines) engines, \(system.allocatedPages - baseline) pages held")
        }
    }

    /// One random call. Returns the routine's name, the status it failed with (nil on
    /// success) and whether it was given a handle it must refuse.
    mutating func call(_ system: AzaliaSystem, _ models: inout [Model], irql: IRQL, step: Int,
                       closePending: inout Bool) throws(StressViolation) -> (String, NTStatus?, Bool) {
        if models.isEmpty || (models.count < 4 && rng.oneIn(12)) {
            do throws(NTStatus) {
                let address = rng.oneIn(10) ? Int(truncatingIfNeeded: rng.edgy(max: 64)) : rng.below(3)
                let version = rng.below(3)
                let client: OpenInterface = try system.platform.withIRQL(irql) { () throws(NTStatus) -> OpenInterface in
                    switch version {
                    case 0: .base(try system.openInterface(codecAddress: address, version: .base))
                    case 1: .v2(try system.openInterface(codecAddress: address, version: .v2))
                    default: .bdl(try system.openInterface(codecAddress: address, version: .bdl))
                    }
                }
                models.append(Model(client: client))
                return ("openInterface", nil, false)
            } catch { return ("openInterface", error, false) }
        }
        let i = rng.below(models.count)
        let iface = models[i].client.common
        let (h, invalid) = handle(models, i)
        func at<R>(_ body: () throws(NTStatus) -> R) -> Result<R, NTStatus> {
            system.platform.withIRQL(irql) { Result { () throws(NTStatus) -> R in try body() } }
        }
        func status<R>(_ r: Result<R, NTStatus>) -> NTStatus? { if case .failure(let e) = r { e } else { nil } }
        let problems = callbackProblems
        switch rng.below(22) {
        case 0:
            if irql != .passive { closePending = true }
            _ = at { () throws(NTStatus) -> Void in iface.close() }
            models.remove(at: i)
            return ("close", nil, false)
        case 1, 2:
            let f = format()
            let r = rng.oneIn(3)
                ? at { () throws(NTStatus) in try iface.allocateCaptureDmaEngine(codecAddress: rng.below(4), format: f) }
                : at { () throws(NTStatus) in try iface.allocateRenderDmaEngine(format: f, stripe: rng.oneIn(2)) }
            if case .success(let a) = r { models[i].live.append(a.handle) }
            return ("AllocateDmaEngine", status(r), false)
        case 3:
            let r = at { () throws(NTStatus) in try iface.freeDmaEngine(h) }
            if case .success = r, let k = models[i].live.firstIndex(of: h) {
                models[i].live.remove(at: k); models[i].freed.append(h); models[i].events[h] = nil; models[i].mdls[h] = nil
            }
            return ("FreeDmaEngine", status(r), invalid)
        case 4, 5:
            let state = rng.pick(StreamState.allCases)
            var handles = [h]
            if rng.oneIn(3) { handles.append(contentsOf: models[i].live.prefix(rng.below(3))) }
            if rng.oneIn(20) { handles = [] }
            let r = at { () throws(NTStatus) in try iface.setDmaEngineState(state, handles: handles) }
            return ("SetDmaEngineState", status(r), invalid && handles == [h])
        case 6:
            let f = format()
            return ("ChangeBandwidthAllocation", status(at { () throws(NTStatus) in try iface.changeBandwidthAllocation(h, format: f) }), invalid)
        case 7:
            return ("GetLinkPositionRegister", status(at { () throws(NTStatus) in try iface.getLinkPositionRegister(h) }), invalid)
        case 8:
            let verbs = (0..<(rng.oneIn(10) ? 0 : 1 + rng.below(rng.oneIn(10) ? 600 : 4))).map { _ in CodecTransfer(verb: UInt32(truncatingIfNeeded: rng.next())) }
            if rng.oneIn(2) {
                let r = at { () throws(NTStatus) -> Void in
                    try iface.transferCodecVerbs(verbs, callback: { transfers, _ in
                        // A callback that calls back in, at DISPATCH_LEVEL.
                        if transfers.count != verbs.count { problems.withLock { $0.append("verb callback got \(transfers.count) of \(verbs.count)") } }
                        do throws(NTStatus) { _ = try iface.transferCodecVerbs([CodecTransfer(verb: 0xF0000)]) } catch {
                            if error != .unsuccessful { problems.withLock { $0.append("sync verbs at DISPATCH: \(error)") } }
                        }
                    }, context: 0)
                }
                return ("TransferCodecVerbs (async)", status(r), false)
            }
            let r = at { () throws(NTStatus) in try iface.transferCodecVerbs(verbs) }
            if case .success(let done) = r, done.count != verbs.count {
                throw StressViolation(step: step, message: "TransferCodecVerbs returned \(done.count) of \(verbs.count)")
            }
            return ("TransferCodecVerbs", status(r), false)
        case 9:
            let r = at { () throws(NTStatus) in try iface.registerEventCallback({ _, _ in _ = try? iface.getDeviceInformation(size: 64) }, context: 0) }
            if case .success(let tag) = r, rng.oneIn(2) { _ = at { () throws(NTStatus) -> Void in try iface.unregisterEventCallback(tag: tag) } }
            return ("RegisterEventCallback", status(r), false)
        case 10:
            let r = at { () throws(NTStatus) -> Void in _ = try iface.getResourceInformation(); _ = try iface.getDeviceInformation(size: rng.below(128)); _ = try iface.getWallClockRegister() }
            return ("GetResourceInformation", status(r), false)
        case 11, 12, 13:
            let requested = size()
            switch models[i].client {
            case .base(let b):
                let r = at { () throws(NTStatus) in try b.allocateDmaBuffer(h, requestedBufferSize: requested) }
                return ("AllocateDmaBuffer", status(r), invalid)
            case .v2(let v):
                let r = at { () throws(NTStatus) in try v.allocateDmaBufferWithNotification(h, notificationCount: rng.below(4), requestedBufferSize: requested) }
                if case .success(let b) = r { models[i].mdls[h] = b.mdl }
                return ("AllocateDmaBufferWithNotification", status(r), invalid)
            case .bdl(let b):
                let r = at { () throws(NTStatus) in try b.allocateContiguousDmaBuffer(h, requestedBufferSize: requested) }
                if case .success(let c) = r, rng.below(4) != 0 {
                    // A BDL that is mostly good, sometimes points anywhere.
                    var bytes: [UInt8] = []
                    let entries = 2 + rng.below(3)
                    let each = (c.dataBuffer.length / entries) & ~127
                    for e in 0..<entries {
                        let address = rng.oneIn(10) ? rng.next() : c.dataBuffer.address + UInt64(e * each)
                        bytes += BDLEntry(address: address, length: UInt32(max(each, 128)), interruptOnCompletion: rng.oneIn(2)).bytes
                    }
                    system.platform.writeMemory(c.bdlBuffer.address, bytes: bytes)
                    let total = UInt32(truncatingIfNeeded: rng.oneIn(10) ? rng.next() : UInt64(entries * max(each, 128)))
                    let lvi = UInt16(rng.oneIn(10) ? rng.below(300) : entries - 1)
                    let setup = at { () throws(NTStatus) -> BdlEngineSetup in
                        try b.setupDmaEngineWithBdl(h, bufferLength: total, lvi: lvi, isr: { _, _ in
                            // An ISR that calls back in at DIRQL: every PASSIVE routine refuses.
                            do throws(NTStatus) { _ = try b.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 16, channels: 2), stripe: false) } catch {
                                if error != .unsuccessful { problems.withLock { $0.append("allocation from the ISR: \(error)") } }
                            }
                            _ = try? b.getLinkPositionRegister(h)
                        }, context: UInt(step))
                    }
                    return ("SetupDmaEngineWithBdl after AllocateContiguousDmaBuffer", status(setup), false)
                }
                return ("AllocateContiguousDmaBuffer", status(r), invalid)
            }
        case 14, 15:
            switch models[i].client {
            case .base(let b): return ("FreeDmaBuffer", status(at { () throws(NTStatus) in try b.freeDmaBuffer(h) }), invalid)
            case .v2(let v):
                let mdl = models[i].mdls[h] ?? MemoryDescriptorList(pages: [], byteCount: 0, byteOffset: 0, pageSize: 4096)
                let r = at { () throws(NTStatus) in try v.freeDmaBufferWithNotification(h, bufferMdl: mdl, bufferSize: rng.oneIn(8) ? 5 : mdl.byteCount) }
                return ("FreeDmaBufferWithNotification", status(r), invalid)
            case .bdl(let b): return ("FreeContiguousDmaBuffer", status(at { () throws(NTStatus) in try b.freeContiguousDmaBuffer(h) }), invalid)
            }
        case 16:
            guard case .v2(let v) = models[i].client else { return ("advance", nil, false) }
            if rng.oneIn(2), let e = models[i].events[h]?.first {
                return ("UnregisterNotificationEvent", status(at { () throws(NTStatus) in try v.unregisterNotificationEvent(h, event: e) }), invalid)
            }
            let event = NotificationEvent(name: "walk") { _ in
                // A DPC that uses its own interface, and sometimes stops its engine.
                _ = try? v.getLinkPositionRegister(h)
                do throws(NTStatus) { try v.setDmaEngineState(.pause, handles: [h]) } catch {
                    if ![.invalidHandle, .invalidDeviceRequest, .deviceNotReady].contains(error) { problems.withLock { $0.append("pause from a DPC: \(error)") } }
                }
            }
            let r = at { () throws(NTStatus) in try v.registerNotificationEvent(h, event: event) }
            if case .success = r { models[i].events[h, default: []].append(event) }
            return ("RegisterNotificationEvent", status(r), invalid)
        case 17:
            var f = FaultInjection()
            if rng.oneIn(2) {
                for _ in 0..<(1 + rng.below(2)) {
                    switch rng.below(4) {
                    case 0: f.srstNeverLatches.insert(rng.below(16))
                    case 1: f.srstNeverClears.insert(rng.below(16))
                    case 2: f.fifoNeverReady.insert(rng.below(16))
                    default: f.runNeverClears.insert(rng.below(16))
                    }
                }
            }
            system.setFaults(f)
            system.setPageLimit(rng.oneIn(3) ? system.allocatedPages + rng.below(8) : nil)
            return ("faults and page limit", nil, false)
        default:
            system.advance(frames: UInt64(rng.oneIn(20) ? rng.below(20_000) : rng.below(300)))
            return ("advance", nil, false)
        }
    }
}
