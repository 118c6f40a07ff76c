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
            dma (best case): every engine of the profile runs the format for --seconds of link
                 time with interrupts off and a codec that copies every byte it receives and sends.
            dma (real path): the bus started, interrupts on, its ISR and DPC, a notification event
                 per engine whose client refills (render) or empties (capture) the half buffer just
                 finished, mixed formats of both rate families, the virtual codec's converters;
                 --buffer-bytes sets each engine's buffer (16 KiB by default).
                 Both DMA figures: memcpy time over path time for the same bytes (goal: >= 0.5);
                 the memcpy copies the same bytes into a destination of the same footprint.
            copies only: the real path's copies alone (client <-> DMA buffer <-> converter ring,
                 every byte twice) in the same rounds: the most any implementation of it can reach.
            staggered: every engine with its own format and entry size (events on different frames)
                 against every engine at one format (events on the same frames), wall time per
                 byte moved (the goal is at most 1.3).
            ddi: engine allocate + buffer allocate + buffer free + engine free round trips through
                 the real DDI, against register read+write pairs through the same platform:
                 register pairs per round-trip time (the goal is at most 60).
            Every figure alternates with its baseline in rounds; the table shows the fastest round
            on each side (the least disturbed by load) and their ratio, the median of the rounds'
            own ratios beside it; --json also has the totals over all rounds.
            play: `azalia play --out` of a --play-minutes 48000/16/2 WAV against `sox IN OUT` on
                 the same file (goal: at most 1.5), and play's peak RSS for that file against a
                 1-minute one (goal: within 10%, under 64 MiB); child processes, skipped with
                 --play-minutes 0 (the sox row is skipped, saying so, when sox is not on PATH).
            The table gives each figure, its baseline from the same run, the ratio, the goal and
            what was run; --json gives the same as JSON. A progress line goes to standard error.

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

    @Option(help: "Length of the long file of the play benchmark, in minutes (0: skip it).")
    var playMinutes: Double = 10

    @Option(help: "Cyclic buffer each engine of the real-path DMA benchmark asks for, in bytes (notified twice per pass).")
    var bufferBytes: Int = RealPathBenchmark.defaultBufferBytes

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard seconds >= 0.1, seconds <= 3600 else { throw ValidationError("--seconds must be from 0.1 to 3600") }
        guard playMinutes >= 0, playMinutes <= 360 else { throw ValidationError("--play-minutes must be from 0 to 360") }
        let range = RealPathBenchmark.bufferBytesRange
        guard range.contains(bufferBytes) else {
            throw ValidationError("--buffer-bytes must be from \(range.lowerBound) to \(range.upperBound)")
        }
    }

    /// The report as JSON.
    struct Report: Encodable {
        var build: String
        var dma: ControllerBenchmark.Result
        var ddi: DDIBenchmark.Result?
        var batching: ControllerBenchmark.BatchingResult?
        var realPath: RealPathBenchmark.Result?
        var streaming: StreamingBenchmark.Result?
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
            // A progress line on standard error (not with --json): one step per benchmark.
            let progress = ProgressReporter(label: "bench", enabled: !json)
            progress.update(done: 0, total: 5)
            let dma: ControllerBenchmark.Result
            do {
                dma = try ControllerBenchmark.run(profile: controllerProfile, format: streamFormat, linkSeconds: seconds)
            } catch {
                progress.finish()
                throw CLIFailure("the format \(format) cannot run on every engine of \(controllerProfile.name): \(error)")
            }
            progress.update(done: 1, total: 5)
            var failures: [String] = []
            var realPath: RealPathBenchmark.Result?
            do { realPath = try RealPathBenchmark.run(profile: controllerProfile, linkSeconds: seconds, bufferBytes: bufferBytes) } catch { failures.append("DMA, real path: \(error)") }
            progress.update(done: 2, total: 5)
            let batching = try? ControllerBenchmark.runBatching(profile: controllerProfile, linkSeconds: min(seconds, 10))
            progress.update(done: 3, total: 5)
            let ddi = try? DDIBenchmark.run(profile: controllerProfile)
            progress.update(done: 4, total: 5)
            var streaming: StreamingBenchmark.Result?
            if playMinutes > 0 {
                do { streaming = try StreamingBenchmark.run(longMinutes: playMinutes) } catch { failures.append("play against sox: \(error)") }
            }
            progress.update(done: 5, total: 5)
            progress.finish()
            #if DEBUG
            let build = "debug"
            #else
            let build = "release"
            #endif
            if json {
                try printJSON(Report(build: build, dma: dma, ddi: ddi, batching: batching, realPath: realPath, streaming: streaming))
                return
            }
            if build == "debug" { print("note: debug build; use `swift run -c release azalia bench` for real figures") }
            // One row per figure: the figure, its baseline measured in the same run, their
            // ratio (with the goal), and what was run.
            var rows: [[String]] = [["figure", "measured", "baseline (same run)", "ratio", "goal", "what was run"]]
            rows.append(["DMA, best case", "\(bytes(dma.fastestSampleBytesPerSecond))/s", "memcpy \(bytes(dma.fastestMemcpyBytesPerSecond))/s",
                         fmt(dma.ratioToMemcpy), ">= 0.5",
                         "\(dma.engines) engines of \(dma.profile) at \(dma.format), INTCTL 0, no client, \(fmt(dma.linkSeconds)) s of link time; \(rounds(dma.rounds, median: dma.medianRatioToMemcpy))"])
            if let r = realPath {
                rows.append(["DMA, real path", "\(bytes(r.fastestSampleBytesPerSecond))/s", "memcpy \(bytes(r.fastestMemcpyBytesPerSecond))/s",
                             fmt(r.ratioToMemcpy), ">= 0.5",
                             "\(r.streams.count) engines of \(r.profile), mixed formats, interrupts on, ISR + DPC, \(r.eventsServiced) notifications each refilling or emptying half of a \(r.requestedBufferBytes)-byte buffer, virtual codec, \(fmt(r.linkSeconds)) s; \(rounds(r.rounds, median: r.medianRatioToMemcpy))"])
                rows.append(["DMA, copies only", "", "memcpy", fmt(r.copiesOnlyRatioToMemcpy), "",
                             "the real path's copies alone (client <-> DMA buffer <-> converter ring, every byte twice), no controller, bus or codec: the most any implementation of that path can reach; same rounds (median ratio \(fmt(r.medianCopiesOnlyRatioToMemcpy)))"])
            }
            if let b = batching {
                rows.append(["staggered engines", "\(fmt(b.fastestStaggeredNanosecondsPerKiB)) ns/KiB", "coincident \(fmt(b.fastestCoincidentNanosecondsPerKiB)) ns/KiB",
                             fmt(b.ratio), "<= 1.3",
                             "\(b.engines) engines, own format (44.1k and 48k families, 1-8 ch) and entry size vs all at \(b.coincidentFormat), \(fmt(b.linkSeconds)) s each; \(rounds(b.rounds, median: b.medianRatio))"])
            }
            if let d = ddi {
                rows.append(["DDI round trip", "\(fmt(d.fastestRoundTripsPerSecond))/s", "register pairs \(fmt(d.fastestRegisterPairsPerSecond))/s",
                             fmt(d.registerPairsPerRoundTrip), "<= 60",
                             "\(d.iterations) x (allocate engine + buffer, free both) on \(d.profile), ratio = register pairs per round trip; \(rounds(d.rounds, median: d.medianRegisterPairsPerRoundTrip))"])
            }
            if let streaming { rows += StreamingBenchmark.rows(streaming) }
            printTable(rows)
            for f in failures { print("not measured: \(f)") }
        }
    }

    /// Prints rows as left-aligned columns, the last column unpadded.
    private func printTable(_ rows: [[String]]) {
        let columns = rows.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        for row in rows {
            let cells = row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
    }

    /// How a ratio was taken: the fastest of the alternating rounds on each side, and the
    /// median of the rounds' own ratios beside it.
    private func rounds(_ count: Int, median: Double) -> String {
        "fastest of \(count) alternating rounds each side (median ratio \(fmt(median)))"
    }

    private func fmt(_ value: Double) -> String {
        value >= 100 ? String(Int(value.rounded())) : String(Double(Int(value * 100)) / 100)
    }

    private func bytes(_ value: Double) -> String {
        value >= 1e9 ? "\(fmt(value / 1e9)) GB" : value >= 1e6 ? "\(fmt(value / 1e6)) MB" : "\(fmt(value / 1e3)) kB"
    }
}
