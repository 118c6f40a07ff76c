import Azalia
import Foundation
import HDAudio
import Testing

@Suite("Seeded hostile walks (azalia stress)")
struct StressWalkTests {
    @Test("A short walk of each kind holds, and takes the steps it was asked for", arguments: StressKind.allCases)
    func shortWalk(kind: StressKind) throws {
        let steps = kind == .ddi ? 1500 : kind == .guest ? 1000 : 3000
        var lastProgress = -1
        let report = try Stress.run(kind, seed: 42, steps: steps) { lastProgress = $0 }
        #expect(report.steps == steps && lastProgress == steps)
        #expect(report.counts.values.reduce(0, +) >= steps)
        if kind == .guest {
            // The walk runs streams (batched against its stepped twin), not only refused BDLs.
            #expect((report.counts["plausible stream"] ?? 0) > 30 && (report.counts["advance moving samples"] ?? 0) > 50)
        }
    }

    @Test("The DDI walk on four threads, each with its own clients on one bus, holds; every round closes clean")
    func threadedWalk() throws {
        var lastProgress = -1
        let report = try Stress.run(.ddi, seed: 11, steps: 12_000, threads: 4) { lastProgress = $0 }
        #expect(lastProgress == 12_000)
        // 2,000 steps per thread per round: a second system after the first 8,000 steps.
        #expect(report.counts["threads: rounds"] == 2)
        #expect((report.counts["openInterface"] ?? 0) >= 4)
        // Every step counted once by its routine (statuses are counted besides, with the routine's name).
        #expect(report.counts.filter { !$0.key.contains("STATUS_") && $0.key != "threads: rounds" }.values.reduce(0, +) == 12_000)
    }

    @Test("azalia stress --threads: 1 to 64 and the ddi walk only, else a usage error")
    func threadsOption() throws {
        for arguments in [["stress", "guest", "--threads", "2"], ["stress", "ddi", "--threads", "0"], ["stress", "ddi", "--threads", "65"]] {
            let run = try azalia(arguments: arguments)
            #expect(run.status == 64, "\(arguments): exit \(run.status) \(run.stderr)")
        }
        // Under AddressSanitizer this child runs with leak detection on: its exit status is
        // LeakSanitizer's 1 if any connection is still allocated when it exits (as happened
        // while the threads' closures kept a copy of their results; README, Reliability).
        let run = try azalia(arguments: ["stress", "ddi", "--threads", "2", "--steps", "300", "--seed", "4"])
        #expect(run.status == 0 && run.stdout.contains("300 steps from seed 4 on 2 threads held"), "\(run.stdout)\(run.stderr)")
    }

    @Test("A fuzzer input steers a walk until it is used up; the same input gives the same answer", arguments: StressKind.allCases)
    func fuzzInput(kind: StressKind) {
        var random = SeededRandom(seed: 3)
        for length in [0, 1, 7, 64, 1000] {
            let input = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let first = Stress.fuzz(kind, input: input)
            #expect(first == nil, "\(first ?? "")")
            #expect(Stress.fuzz(kind, input: input) == first)
        }
    }

    @Test("FuzzDDI's first find: a client closed at DISPATCH_LEVEL as the input ends; the closing inspection frees its engine")
    func closeAtDispatchThenEnd() {
        // Open an interface, allocate an engine, close at DISPATCH_LEVEL; then the input runs out
        // and the walk's finish inspects the bus at PASSIVE_LEVEL: the engine must be back.
        let input: [UInt8] = [0xFF, 0xFF, 0x42, 0x28, 0x40, 0x42, 0xFF, 0xA4, 0xF6, 0xF6, 0xF6, 0xF6, 0x44, 0xFF, 0x30, 0x2C,
                              0xFA, 0x65, 0x28, 0x2C, 0x32, 0xBA, 0xE6, 0xFA, 0x00]
        let broken = Stress.fuzz(.ddi, input: input)
        #expect(broken == nil, "\(broken ?? "")")
    }

    @Test("A fuzz program built without libFuzzer tries the files it is given")
    func replayFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("azalia-replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("input")
        try Data([0x52, 0x49, 0x46, 0x46, 0x1B, 0x5B]).write(to: file)
        #expect(Stress.replay(.wav, paths: [file.path]) == 0)
        #expect(Stress.replay(.wav, paths: [dir.appendingPathComponent("missing").path]) == 1)
        #expect(Stress.replay(.ddi, paths: []) == 64)
    }

    @Test("A failure names the kind, seed and step and the command that repeats it")
    func failureNamesSeedAndStep() {
        let failure = StressFailure(kind: .ddi, seed: 9, step: 41, message: "x")
        #expect(failure.description.contains("seed 9, step 41"))
        #expect(failure.description.contains("azalia stress ddi --seed 9 --steps 42"))
        let threaded = StressFailure(kind: .ddi, seed: 9, step: 41, message: "x", threads: 3)
        #expect(threaded.description.contains("--steps 42 --threads 3") && threaded.description.contains("interleave"))
    }
}
