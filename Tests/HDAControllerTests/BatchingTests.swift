import HDAController
import HDAudio
import Testing
import TestSupport

/// A random configuration of engines, built the same way from a seed for both runs.
struct Scenario {
    var profileName: String
    var streams: [(descriptor: Int, format: StreamFormat, lengths: [UInt32], iocs: [Bool], cbl: UInt32, tag: UInt8,
                   control: UInt32)]
    var ssyncMask: UInt32
    var releaseFrame: UInt64
    var stopDescriptor: Int
    var stopFrame: UInt64
    var restartFrame: UInt64
    var frames: UInt64

    /// A scenario of 1 to 4 engines, or of `engines` (at most every engine of the profile),
    /// each with its own random format and entry lengths: their events fall on different frames.
    init(seed: UInt64, engines: Int? = nil) {
        var rng = SeededRandom(seed: seed)
        let p = ControllerProfile.all.randomElement(using: &rng)!
        profileName = p.name
        var descriptors = Array(0..<p.gcap.totalEngines).shuffled(using: &rng)
        let drawn = Int.random(in: 1...4, using: &rng)
        let count = engines.map { min($0, p.gcap.totalEngines) } ?? drawn
        streams = []
        for _ in 0..<count {
            let n = descriptors.removeLast()
            var format: StreamFormat
            repeat {
                format = StreamFormat(rate: RateEncoding.allRates.randomElement(using: &rng)!,
                                      bits: StreamFormat.legalSampleBits.randomElement(using: &rng)!,
                                      channels: UInt16.random(in: 1...8, using: &rng))
            } while (try? LinkBudget.fifoWords(format)) ?? 99 > 48
            let entries = Int.random(in: 2...6, using: &rng)
            let lengths = (0..<entries).map { _ in UInt32.random(in: 1...1500, using: &rng) }
            let iocs = (0..<entries).map { _ in Bool.random(using: &rng) }
            let total = lengths.reduce(0, +)
            let maxBlocks = Int(total) / format.blockBytes
            let blocks = maxBlocks == 0 ? 1 : Int.random(in: max(1, maxBlocks / 2)...maxBlocks, using: &rng)
            var control = StreamControl.ioce | StreamControl.feie | StreamControl.deie
            let kind = p.layout.kind(of: n)
            if kind == .bidirectional && Bool.random(using: &rng) { control |= StreamControl.dir }
            if kind != .input && p.sdoLines > 1 { control |= UInt32.random(in: 0...2, using: &rng) << 16 }
            streams.append((n, format, lengths, iocs, UInt32(blocks * format.blockBytes),
                            UInt8.random(in: 1...15, using: &rng), control))
        }
        ssyncMask = 0
        for s in streams where Bool.random(using: &rng) { ssyncMask |= 1 << UInt32(s.descriptor) }
        releaseFrame = UInt64.random(in: 0...300, using: &rng)
        stopDescriptor = streams.randomElement(using: &rng)!.descriptor
        stopFrame = UInt64.random(in: 300...1500, using: &rng)
        restartFrame = stopFrame + UInt64.random(in: 0...400, using: &rng)
        frames = 2500
        if engines != nil {
            // Many engines: one tag per stream and direction, as a bus driver assigns them
            // (two streams of one tag would interleave on the codec's converter).
            var next: [Bool: UInt8] = [true: 1, false: 1]
            for i in streams.indices {
                let kind = p.layout.kind(of: streams[i].descriptor)
                let output = kind == .output || (kind == .bidirectional && streams[i].control & StreamControl.dir != 0)
                streams[i].tag = next[output]!
                next[output]! += 1
            }
        }
    }
}

/// Everything a driver could observe: every register byte, all of RAM, what the codecs saw.
struct Snapshot: Equatable {
    var registers: [UInt32]
    var memory: [UInt8]
    var received: [UInt8: [UInt8]]
    var sent: [UInt8: [UInt8]]
    /// Per codec and tag, the verbs it had when each block arrived.
    var verbsAtBlock: [[UInt8: [Int]]]
    var line: Bool
}

final class ScenarioRun {
    let c: HDAController
    let codecs: [TestCodec]
    let scenario: Scenario
    var rises: [UInt64] = []
    var snapshots: [UInt64: Snapshot] = [:]

    init(_ scenario: Scenario, inputFollowsOutput: Bool = true) throws {
        self.scenario = scenario
        let p = profile(scenario.profileName)
        c = HDAController(profile: p, memory: GuestMemory(pages: max(48, 8 * scenario.streams.count + 8)),
                          faults: FaultInjection(fifoErrors: [scenario.stopDescriptor]))
        codecs = [TestCodec(transmitTags: [1, 3, 5, 7, 9], seed: 3), TestCodec(transmitTags: Set(1...15), seed: 8)]
        for codec in codecs {
            codec.inputFollowsOutput = inputFollowsOutput
            codec.followsVerbs = true   // stream data must meet the verbs in frame order
        }
        c.attach(codecs[0], at: 0)
        c.attach(codecs[1], at: 1)
        c.bringUp()
        let dpl = try c.memory.allocate(pages: 1, contiguous: true)[0]
        c.write32(HDARegister.dplbase, dpl.low32 | 1)
        c.write32(HDARegister.intctl, 0xFFFF_FFFF)
        for s in scenario.streams {
            _ = try programStream(c, descriptor: s.descriptor, format: s.format, lengths: s.lengths, iocs: s.iocs,
                                  cbl: s.cbl, tag: s.tag, control: s.control, pattern: UInt8(s.descriptor))
        }
        c.write32(p.ssyncOffset, scenario.ssyncMask)
        for s in scenario.streams { c.run(s.descriptor) }
        // The command path runs alongside: CORB and RIRB of 16 entries.
        corb = try c.memory.allocate(pages: 1, contiguous: true)[0]
        let rirb = try c.memory.allocate(pages: 1, contiguous: true)[0]
        c.write32(HDARegister.corblbase, corb.low32)
        c.write32(HDARegister.corbubase, corb.high32)
        c.write8(HDARegister.corbsize, RingSize.sixteen.rawValue)
        c.write32(HDARegister.rirblbase, rirb.low32)
        c.write32(HDARegister.rirbubase, rirb.high32)
        c.write8(HDARegister.rirbsize, RingSize.sixteen.rawValue)
        c.write16(HDARegister.rintcnt, 2)
        c.write8(HDARegister.rirbctl, RirbControl.writable)
        c.write8(HDARegister.corbctl, CorbControl.run)
        c.write32(HDARegister.gctl, GlobalControl.crst | GlobalControl.unsol)
    }

    var corb = GuestAddress(0)
    var corbWP = 0

    /// Queues `count` verbs to codecs 0 and 1 (and 7, where nobody answers).
    func sendVerbs(_ count: Int, at t: UInt64) {
        for i in 0..<count {
            corbWP = (corbWP + 1) % 16
            let address: UInt32 = [0, 1, 7][i % 3]
            try! c.memory.writeUInt32(corb.adding(UInt64(4 * corbWP))!, CorbEntry.codecAddress.placing(address) | UInt32(t & 0xFFFF) << 4 | UInt32(i))
        }
        c.write16(HDARegister.corbwp, UInt16(corbWP))
    }

    var origin: UInt64 = 0

    func snapshot() -> Snapshot {
        let engines = c.profile.gcap.totalEngines
        var registers: [UInt32] = []
        for offset in stride(from: UInt32(0), to: HDARegister.streamDescriptor(engines), by: 4) { registers.append(c.read32(offset)) }
        for offset in stride(from: HDARegister.aliasBase, to: HDARegister.aliasBase + HDARegister.streamDescriptor(engines), by: 4) {
            registers.append(c.read32(offset))
        }
        let memory = try! c.memory.read(c.memory.base, count: Int(c.memory.sizeInBytes))
        var received: [UInt8: [UInt8]] = [:], sent: [UInt8: [UInt8]] = [:]
        for codec in codecs {
            for (tag, bytes) in codec.received { received[tag, default: []] += bytes }
            for (tag, bytes) in codec.sent { sent[tag, default: []] += bytes }
        }
        return Snapshot(registers: registers, memory: memory, received: received, sent: sent,
                        verbsAtBlock: codecs.map(\.verbsAtBlock), line: c.interruptAsserted)
    }

    /// Register writes a driver makes at scenario frame `t` (relative to the start).
    func actions(at t: UInt64) {
        let p = c.profile
        if t == scenario.releaseFrame { c.write32(p.ssyncOffset, 0) }
        if t == scenario.stopFrame { c.stop(scenario.stopDescriptor) }
        if t == scenario.restartFrame { c.run(scenario.stopDescriptor) }
        if t == scenario.releaseFrame + 3 { sendVerbs(5, at: t) }
        if t == scenario.stopFrame + 1 {
            sendVerbs(9, at: t)
            codecs[1].unsolicited = [0x1400_0000, 0x1800_0000]
        }
    }

    /// Runs the scenario: batched with random chunks, or one frame at a time. On every
    /// rising interrupt the "driver" clears all stream status bits.
    func go(batched: Bool, chunkSeed: UInt64, snapshotAt: Set<UInt64>) {
        var rng = SeededRandom(seed: chunkSeed)
        origin = c.frame
        let events: [UInt64] = [scenario.releaseFrame, scenario.releaseFrame + 3, scenario.stopFrame,
                                scenario.stopFrame + 1, scenario.restartFrame]
        while c.frame - origin < scenario.frames {
            let t = c.frame - origin
            actions(at: t)
            let nextEvent = events.filter { $0 > t }.min() ?? scenario.frames
            let limit = min(nextEvent, scenario.frames) - t
            let chunk = batched ? min(limit, UInt64.random(in: 1...900, using: &rng)) : 1
            let before = c.interruptAsserted
            _ = c.advance(frames: chunk, stopAtInterrupt: true)
            let now = c.frame - origin
            if !before && c.interruptAsserted {
                rises.append(now)
                for s in scenario.streams { c.write8(c.sd(s.descriptor, HDARegister.SD.sts), StreamStatus.interruptCauses.rawValue) }
                c.write8(HDARegister.rirbsts, RirbStatus.writeOneToClear)
            }
            if batched || snapshotAt.contains(now) { snapshots[now] = snapshot() }
            #expect(c.checkInvariants() == [])
        }
    }
}

@Suite("Batching")
struct BatchingTests {
    @Test("Batched advance is identical, frame for frame, to stepping one frame at a time (seeded random configurations)",
          arguments: Array(UInt64(1)...UInt64(12)))
    func batchedEqualsStepped(seed: UInt64) throws {
        let scenario = Scenario(seed: seed)
        let formats = scenario.streams.map { "SD\($0.descriptor) \($0.format.compact) cbl \($0.cbl)" }
        print("batching seed \(seed): \(scenario.profileName) \(formats)")
        let batched = try ScenarioRun(scenario)
        batched.go(batched: true, chunkSeed: seed &* 977, snapshotAt: [])
        let stepped = try ScenarioRun(scenario)
        stepped.go(batched: false, chunkSeed: 0, snapshotAt: Set(batched.snapshots.keys))
        #expect(batched.rises == stepped.rises, "seed \(seed): interrupts rise on the same frames")
        #expect(!batched.snapshots.isEmpty && !batched.rises.isEmpty)
        for frame in batched.snapshots.keys.sorted() {
            let same = batched.snapshots[frame] == stepped.snapshots[frame]
            #expect(same, "seed \(seed): state differs after frame \(frame)")
            if !same { break }
        }
        #expect(batched.c.totalBytesMoved == stepped.c.totalBytesMoved && batched.c.totalBytesMoved > 0)
        #expect(batched.codecs[0].verbs == stepped.codecs[0].verbs && batched.codecs[0].verbs.count == 5,
                "the command path ran alongside")
    }

    /// Expected IOC frames (1-based frame counts after which BCIS reads 1) for a stream whose
    /// completion points, in stream bytes, are `points`.
    func iocFrames(_ cadence: LinkCadence, blockBytes: UInt64, entries: [UInt64], cbl: UInt64, frames: UInt64) -> [UInt64] {
        var ends: [UInt64] = []
        var sum: UInt64 = 0
        for length in entries { sum += length; if sum <= cbl { ends.append(sum) } }
        var result: [UInt64] = []
        var cycle: UInt64 = 0
        let total = cadence.blocks(before: frames) * blockBytes
        outer: while true {
            for end in ends {
                let point = cycle * cbl + end
                if point > total { break outer }
                var lo: UInt64 = 1, hi = frames
                while lo < hi {   // the first frame count whose bytes reach the point
                    let mid = (lo + hi) / 2
                    if cadence.blocks(before: mid) * blockBytes >= point { hi = mid } else { lo = mid + 1 }
                }
                if result.last != lo { result.append(lo) }
            }
            cycle += 1
        }
        return result
    }

    @Test("IOC on every entry at odd block boundaries fires in the frame the cadence predicts, stepped and batched; LPIB and DPL exact after wraps",
          arguments: ["32000/16/2", "44100/20/3", "88200/24/5", "11025/8/1", "22050/32/7", "64000/16/1"], [true, false])
    func iocAtOddBoundaries(_ text: String, output: Bool) throws {
        let n = output ? 4 : 1
        let format = StreamFormat(compact: text)!
        let bb = format.blockBytes
        let lengths: [UInt32] = [UInt32(bb * 13), UInt32(bb * 7 + 2), 386, UInt32(bb * 5 + 1), UInt32(bb * 3)]
        let total = lengths.reduce(0, +)
        let cbl = (total / UInt32(bb) - 4) * UInt32(bb)   // ends inside the last-but-one or last entry
        let cadence = try LinkCadence(format)
        let frames: UInt64 = 6000
        let expected = iocFrames(cadence, blockBytes: UInt64(bb), entries: lengths.map(UInt64.init), cbl: UInt64(cbl), frames: frames)
        #expect(expected.count > 8)
        var observed: [[UInt64]] = []
        for batched in [false, true] {
            let c = HDAController(memory: GuestMemory(pages: 64))
            c.attach(TestCodec(transmitTags: [2]), at: 0)
            c.bringUp()
            let dpl = try c.memory.allocate(pages: 1, contiguous: true)[0]
            c.write32(HDARegister.dplbase, dpl.low32 | 1)
            c.write32(HDARegister.dpubase, dpl.high32)
            _ = try programStream(c, descriptor: n, format: format, lengths: lengths, iocs: lengths.map { _ in true },
                                  cbl: cbl, tag: 2, control: StreamControl.ioce)
            c.write32(HDARegister.intctl, InterruptBits.global | 1 << UInt32(n))
            c.run(n)
            var seen: [UInt64] = []
            var done: UInt64 = 0
            while done < frames {
                done += batched ? c.advance(frames: frames - done, stopAtInterrupt: true) : c.advance(frames: 1, stopAtInterrupt: false)
                if c.status(n).contains(.bufferCompletion) {
                    seen.append(done)
                    c.write8(c.sd(n, HDARegister.SD.sts), StreamStatus.bufferCompletion.rawValue)
                }
            }
            let bytes = cadence.blocks(before: frames) * UInt64(bb)
            #expect(c.lpib(n) == UInt32(bytes % UInt64(cbl)))
            #expect(try c.memory.readUInt32(dpl.adding(UInt64(8 * n))!) == UInt32(bytes % UInt64(cbl)))
            #expect(c.checkInvariants() == [])
            observed.append(seen)
        }
        #expect(observed[0] == expected, "\(text) output \(output) stepped")
        #expect(observed[1] == expected, "\(text) output \(output) batched")
    }

    @Test("An unsolicited response queued between advance calls (the LinkCodec contract) lands on the same frame stepped and batched while a stream runs")
    func unsolicitedBetweenAdvances() throws {
        // Frames after RUN at which the host raises a response (a jack change, say).
        let raiseAt: [UInt64] = [37, 700, 1501, 2048]
        let total: UInt64 = 3000
        var rises: [[UInt64]] = [], entries: [[UInt32]] = [], positions: [UInt32] = [], calls: [Int] = []
        for batched in [false, true] {
            let codec = TestCodec()
            let c = HDAController(memory: GuestMemory(pages: 64))
            c.attach(codec, at: 0)
            c.bringUp()
            let (_, rirb) = try setUpRings(c)
            c.write32(HDARegister.gctl, GlobalControl.crst | GlobalControl.unsol)
            c.write32(HDARegister.intctl, InterruptBits.global | InterruptBits.controller)
            _ = try programStream(c, descriptor: 4, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                                  lengths: [4096, 4096], tag: 1)
            c.run(4)
            var done: UInt64 = 0, seen: [UInt64] = [], advances = 0
            var pending = raiseAt
            while done < total {
                if pending.first == done {
                    codec.unsolicited.append(UInt32(pending.count) << 26 | UInt32(done))
                    pending.removeFirst()
                }
                let limit = (pending.first ?? total) - done
                done += c.advance(frames: batched ? limit : 1, stopAtInterrupt: true)
                advances += 1
                if c.interruptAsserted {
                    seen.append(done)
                    c.write8(HDARegister.rirbsts, RirbStatus.writeOneToClear)
                }
            }
            var rirbEntries: [UInt32] = []
            for i in 1...raiseAt.count {
                rirbEntries.append(try c.memory.readUInt32(rirb.adding(UInt64(8 * i))!))
                rirbEntries.append(try c.memory.readUInt32(rirb.adding(UInt64(8 * i + 4))!))
            }
            #expect(c.checkInvariants() == [])
            rises.append(seen)
            entries.append(rirbEntries)
            positions.append(c.lpib(4))
            calls.append(advances)
        }
        #expect(rises[0] == rises[1] && entries[0] == entries[1] && positions[0] == positions[1])
        // Each response takes codec 0's SDI slot in the frame after it was queued, and with
        // RINTCNT = 1 raises RINTFL (CIS) at the end of that frame.
        #expect(rises[0] == raiseAt.map { $0 + 1 })
        #expect(entries[0][1] == RirbEntry.unsolicited.mask && entries[0][0] & 0xFFFF == 37, "unsolicited, codec 0, in order")
        #expect(calls[1] < 20, "the batched run really batched (\(calls[1]) advances)")
    }

    /// Drives a scenario with IOC on every entry, verbs every 50 frames and unsolicited
    /// responses every 200, clearing every status bit when the line rises.
    func drive(_ run: ScenarioRun, batched: Bool, chunkSeed: UInt64, snapshotAt: Set<UInt64>) {
        var rng = SeededRandom(seed: chunkSeed)
        let c = run.c, scenario = run.scenario
        let origin = c.frame
        let fixed: [UInt64] = [scenario.releaseFrame, scenario.releaseFrame + 3, scenario.stopFrame,
                               scenario.stopFrame + 1, scenario.restartFrame]
        var unsolicitedTag: UInt32 = 1
        while c.frame - origin < scenario.frames {
            let t = c.frame - origin
            run.actions(at: t)
            if t % 50 == 7 { run.sendVerbs(3, at: t) }
            if t % 200 == 11 {
                run.codecs[t % 400 == 11 ? 0 : 1].unsolicited.append(unsolicitedTag << 26 | UInt32(t))
                unsolicitedTag = unsolicitedTag % 63 + 1
            }
            let nextVerb = t - t % 50 + (t % 50 < 7 ? 7 : 57)
            let nextUnsol = t - t % 200 + (t % 200 < 11 ? 11 : 211)
            let next = (fixed.filter { $0 > t } + [nextVerb, nextUnsol, scenario.frames]).min()!
            let chunk = batched ? min(next - t, UInt64.random(in: 1...700, using: &rng)) : 1
            _ = c.advance(frames: chunk, stopAtInterrupt: true)
            let now = c.frame - origin
            if c.interruptAsserted {
                run.rises.append(now)
                for s in scenario.streams { c.write8(c.sd(s.descriptor, HDARegister.SD.sts), StreamStatus.interruptCauses.rawValue) }
                c.write8(HDARegister.rirbsts, RirbStatus.writeOneToClear)
            }
            // Snapshots (all registers, all RAM, all codec traffic) at every third stop and at the end.
            let stops = run.snapshots.count + run.rises.count
            if (batched && (stops % 3 == 0 || now == scenario.frames)) || snapshotAt.contains(now) {
                run.snapshots[now] = run.snapshot()
            }
        }
        #expect(c.checkInvariants() == [])
    }

    /// Drives `scenario` batched and stepped (snapshots where the batched run took them) and
    /// expects the same interrupt rises (more than 10) and the same state at every snapshot.
    func driveBoth(_ scenario: Scenario, seed: UInt64, inputFollowsOutput: Bool = true) throws -> (ScenarioRun, ScenarioRun) {
        let batched = try ScenarioRun(scenario, inputFollowsOutput: inputFollowsOutput)
        drive(batched, batched: true, chunkSeed: seed &* 31, snapshotAt: [])
        let stepped = try ScenarioRun(scenario, inputFollowsOutput: inputFollowsOutput)
        drive(stepped, batched: false, chunkSeed: 0, snapshotAt: Set(batched.snapshots.keys))
        #expect(batched.rises == stepped.rises && batched.rises.count > 10, "seed \(seed): interrupts on the same frames")
        var differing: UInt64?
        for frame in batched.snapshots.keys.sorted() where batched.snapshots[frame] != stepped.snapshots[frame] {
            differing = frame
            break
        }
        #expect(differing == nil, "seed \(seed): state differs after frame \(differing ?? 0)")
        return (batched, stepped)
    }

    @Test("Batched equals stepped on seeded random configurations with IOC on every entry, steady CORB traffic and unsolicited responses",
          arguments: Array(UInt64(101)...UInt64(105)))
    func batchedEqualsSteppedEveryIOC(seed: UInt64) throws {
        var scenario = Scenario(seed: seed)
        for i in scenario.streams.indices { scenario.streams[i].iocs = scenario.streams[i].iocs.map { _ in true } }
        print("batching seed (IOC on every entry) \(seed): \(scenario.profileName) \(scenario.streams.map { "SD\($0.descriptor) \($0.format.compact) cbl \($0.cbl)" })")
        let (batched, stepped) = try driveBoth(scenario, seed: seed)
        let verbs = batched.codecs.map(\.verbs), steppedVerbs = stepped.codecs.map(\.verbs)
        #expect(verbs == steppedVerbs && verbs.map(\.count).reduce(0, +) > 50)
        #expect(batched.codecs.allSatisfy { $0.unsolicited.isEmpty }, "every unsolicited response was sent")
    }

    @Test("Batched equals stepped with every engine of the profile running staggered (own format, own entry lengths), inputs after outputs or not",
          arguments: [(UInt64(201), true), (202, false), (203, true), (204, false)])
    func batchedEqualsSteppedStaggered(seed: UInt64, inputFollowsOutput: Bool) throws {
        let scenario = Scenario(seed: seed, engines: 16)
        print("batching seed (staggered) \(seed): \(scenario.profileName) \(scenario.streams.map { "SD\($0.descriptor) \($0.format.compact) cbl \($0.cbl)" })")
        #expect(scenario.streams.count >= 8)
        let (batched, stepped) = try driveBoth(scenario, seed: seed, inputFollowsOutput: inputFollowsOutput)
        #expect(batched.c.totalBytesMoved == stepped.c.totalBytesMoved && batched.c.totalBytesMoved > 0)
    }
}
