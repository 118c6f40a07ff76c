import Azalia
import Testing

@Suite("Seeded hostile walks (azalia stress)")
struct StressWalkTests {
    @Test("A short walk of each kind holds, and takes the steps it was asked for", arguments: StressKind.allCases)
    func shortWalk(kind: StressKind) throws {
        let steps = kind == .ddi ? 1500 : 3000
        var lastProgress = -1
        let report = try Stress.run(kind, seed: 42, steps: steps) { lastProgress = $0 }
        #expect(report.steps == steps && lastProgress == steps)
        #expect(report.counts.values.reduce(0, +) >= steps)
    }

    @Test("A failure names the kind, seed and step and the command that repeats it")
    func failureNamesSeedAndStep() {
        let failure = StressFailure(kind: .ddi, seed: 9, step: 41, message: "x")
        #expect(failure.description.contains("seed 9, step 41"))
        #expect(failure.description.contains("azalia stress ddi --seed 9 --steps 42"))
    }
}
