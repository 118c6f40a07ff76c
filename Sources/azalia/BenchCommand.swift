import ArgumentParser
import Azalia
import HDAController
import HDAudio

/// `azalia bench`: the benchmarks, each figure beside a baseline measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run the benchmarks (build with -c release for meaningful figures).",
        discussion: """
            dma: every engine of the profile runs the format for --seconds of link time, with a codec
                 that copies every byte it receives and sends; the time is split into rounds, each
                 followed by a plain memcpy of the bytes it moved, and ratioToMemcpy is the median
                 of memcpy time / simulation time over the rounds (the goal is at least 0.5).
            ddi: engine allocate + buffer allocate + buffer free + engine free round trips per second
                 through the real DDI, compared with the same number of register round trips.

            Examples:
              swift run -c release azalia bench
              swift run -c release azalia bench --seconds 10 --json
              azalia bench --profile ich6 --format 48000/16/2
            """)

    @Option(help: "Controller profile for the DMA benchmark.")
    var profile: ControllerProfile = .skylakePCH

    @Option(help: "Stream format every engine carries, RATE/BITS/CHANNELS.")
    var format: String = ControllerBenchmark.defaultFormat.compact

    @Option(help: "Link time to simulate, in seconds.")
    var seconds: Double = 60

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard seconds >= 0.1, seconds <= 3600 else { throw ValidationError("--seconds must be from 0.1 to 3600") }
    }

    /// The report as JSON.
    struct Report: Encodable {
        var build: String
        var dma: ControllerBenchmark.Result
        var ddi: DDIBenchmark.Result?
        var batching: ControllerBenchmark.BatchingResult?
    }

    func run() throws {
        try reportingFailures {
            let controllerProfile = profile
            guard let streamFormat = StreamFormat(compact: format) else {
                throw CLIFailure("'\(format)' is not RATE/BITS/CHANNELS (for example 192000/16/6)")
            }
            if let problem = streamFormat.problem {
                throw CLIFailure("format \(format): \(problem) (\(NTStatus.invalidParameter))")
            }
            let dma: ControllerBenchmark.Result
            do {
                dma = try ControllerBenchmark.run(profile: controllerProfile, format: streamFormat, linkSeconds: seconds)
            } catch {
                throw CLIFailure("the format \(format) cannot run on every engine of \(controllerProfile.name): \(error)")
            }
            let ddi = try? DDIBenchmark.run(profile: controllerProfile)
            let batching = try? ControllerBenchmark.runBatching(profile: controllerProfile, linkSeconds: min(seconds, 10))
            #if DEBUG
            let build = "debug"
            #else
            let build = "release"
            #endif
            if json {
                try printJSON(Report(build: build, dma: dma, ddi: ddi, batching: batching))
                return
            }
            if build == "debug" { print("note: debug build; use `swift run -c release azalia bench` for real figures") }
            print("DMA path: \(dma.engines) engines of \(dma.profile) at \(dma.format), \(fmt(dma.linkSeconds)) s of link time")
            print("  simulated seconds per wall second  \(fmt(dma.simulatedSecondsPerWallSecond))")
            print("  sample bytes moved per second      \(bytes(dma.sampleBytesPerSecond))/s")
            print("  memcpy of the same bytes           \(bytes(dma.memcpyBytesPerSecond))/s (baseline, same run)")
            print("  ratio to memcpy                    \(fmt(dma.ratioToMemcpy)) (median of \(dma.rounds) rounds)")
            if let ddi {
                print("DDI round trips on \(ddi.profile): \(ddi.iterations) x (engine + buffer allocate, buffer + engine free)")
                print("  round trips per second             \(fmt(ddi.roundTripsPerSecond))")
                print("  register read+write pairs per s    \(fmt(ddi.registerPairsPerSecond)) (baseline, same run)")
                print("  register pairs per round trip time \(fmt(ddi.registerPairsPerRoundTrip))")
            }
            if let b = batching {
                print("Batching: \(b.engines) engines staggered vs coincident, \(fmt(b.linkSeconds)) s each")
                print("  staggered ns per KiB               \(fmt(b.staggeredNanosecondsPerKiB))")
                print("  coincident ns per KiB              \(fmt(b.coincidentNanosecondsPerKiB)) (baseline, same run)")
                print("  ratio                              \(fmt(b.ratio)) (median of \(b.rounds) rounds)")
            }
        }
    }

    private func fmt(_ value: Double) -> String {
        value >= 100 ? String(Int(value.rounded())) : String(Double(Int(value * 100)) / 100)
    }

    private func bytes(_ value: Double) -> String {
        value >= 1e9 ? "\(fmt(value / 1e9)) GB" : value >= 1e6 ? "\(fmt(value / 1e6)) MB" : "\(fmt(value / 1e3)) kB"
    }
}
