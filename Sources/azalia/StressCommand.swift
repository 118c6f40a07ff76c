import ArgumentParser
import Azalia
import Foundation

/// `azalia stress`: the seeded hostile walks, from the command line.
struct StressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Run seeded hostile walks (DDI model, hostile guest, mutated WAV files); a failure prints the seed and step that repeat it.",
        discussion: """
            ddi:   clients of every interface version call every routine with good, stale, foreign and
                   forged handles, at every IRQL, with faults and page limits changing between calls and
                   callbacks calling back in; after every step only documented statuses, a refused call
                   changed nothing, bus and controller invariants hold; at the end everything comes back.
                   --threads N: N threads at once, each with its own clients on the same bus.
            guest: random register writes of every width at every offset, hostile BDLs, huge advances and
                   faults on the bare controller; after every step no trap, exact advances, invariants.
            wav:   mutated valid WAV files; each parses and round-trips, or is refused with a clean message.

            Examples:
              swift run -c release azalia stress ddi --steps 1000000
              azalia stress ddi --threads 4 --steps 100000
              azalia stress guest --seed 7 --steps 100000
              azalia stress wav --steps 100000 --json
            """)

    @Argument(help: "The walk: \(StressKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: StressKind

    @Option(help: "The seed (the same seed and steps repeat the same walk).")
    var seed: UInt64 = 1

    @Option(help: "Steps to take.")
    var steps: Int = 10_000

    @Option(help: "ddi only: threads, each driving its own clients on the same bus at once.")
    var threads: Int = 1

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard steps >= 0 else { throw ValidationError("--steps must not be negative") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1 to 64") }
        guard threads == 1 || kind == .ddi else { throw ValidationError("--threads is for the ddi walk only") }
    }

    func run() throws {
        try reportingFailures {
            let progress = ProgressReporter(label: "stress \(kind.rawValue) (seed \(seed))", enabled: !json)
            let start = ContinuousClock.now
            let report: StressReport
            do throws(StressFailure) {
                report = try Stress.run(kind, seed: seed, steps: steps, threads: threads) { progress.update(done: UInt64($0), total: UInt64(max(steps, 1))) }
            } catch {
                progress.finish()
                throw CLIFailure(error.description)
            }
            progress.finish()
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            if json {
                try printJSON(report)
            } else {
                print("stress \(kind.rawValue): \(steps) steps from seed \(seed)\(threads > 1 ? " on \(threads) threads" : "") held in \(String(format: "%.1f", seconds)) s (\(Int(Double(steps) / max(seconds, 1e-9))) steps/s)")
                for (what, n) in report.counts.sorted(by: { $0.key < $1.key }) { print("  \(what): \(n)") }
            }
        }
    }
}
