import Azalia
import Foundation
import HDACodec
import HDAudio
#if canImport(Glibc)
import Glibc
#endif

/// The streaming rows of `azalia bench`: `azalia play --out` of a long 48 kHz 16-bit stereo
/// file against `sox IN OUT` on the same file, and play's peak memory for a short and a
/// long file. Each play runs as a child process of this executable, alternating with sox,
/// in a temporary directory removed afterwards. The peak memory is the child's own VmHWM,
/// which it prints at its end (`--peak-memory`): `wait4`'s `ru_maxrss` would not do, as
/// Linux carries the spawning process's peak (this benchmark's, after the DMA rounds) into
/// the child's across exec.
enum StreamingBenchmark {
    /// What was measured.
    struct Result: Encodable {
        /// The format of the files.
        var format: String
        /// The long file's length in minutes, and the short one's.
        var longMinutes: Double
        var shortMinutes: Double
        /// Wall seconds of `azalia play LONG --out OUT`, the fastest round (the least disturbed by load).
        var playSeconds: Double
        /// Wall seconds of `sox LONG OUT`, the fastest round (nil without sox on PATH).
        var soxSeconds: Double?
        /// playSeconds / soxSeconds (nil without sox).
        var ratioToSox: Double?
        /// The median over the rounds of play time / sox time in the same round (nil without sox).
        var medianRatioToSox: Double?
        /// CPU seconds (user + system, every thread) of the fastest play and sox rounds: less
        /// moved by load than wall time, but blind to play's writer thread overlapping its work.
        var playCPUSeconds: Double
        var soxCPUSeconds: Double?
        /// Why the sox comparison did not run, when it did not.
        var soxSkipped: String?
        /// Peak RSS of `azalia play` of the long and the short file, in bytes (the largest over the rounds).
        var longPeakBytes: Int
        var shortPeakBytes: Int
        /// long / short peak RSS.
        var peakRatio: Double
        /// Rounds run.
        var rounds: Int
    }

    /// Why the benchmark could not run.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The format of both files.
    static let format = StreamFormat(rate: 48000, bits: 16, channels: 2)

    /// Runs the rounds: files of `longMinutes` and `shortMinutes` minutes.
    static func run(longMinutes: Double = 10, shortMinutes: Double = 1, rounds: Int = 3) throws -> Result {
        guard let me = executablePath() else { throw Failure(description: "cannot find this executable (/proc/self/exe)") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("azalia-bench-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let long = dir.appendingPathComponent("long.wav").path
        let short = dir.appendingPathComponent("short.wav").path
        let out = dir.appendingPathComponent("out.wav").path
        let errors = dir.appendingPathComponent("stderr.txt").path
        try writeTone(long, minutes: longMinutes)
        try writeTone(short, minutes: shortMinutes)
        let sox = findOnPath("sox")
        var plays: [Double] = [], soxes: [Double] = [], ratios: [Double] = [], playCPU: [Double] = [], soxCPU: [Double] = []
        var longPeak = 0, shortPeak = 0
        for _ in 0..<max(1, rounds) {
            if let sox {
                let s = try spawn([sox, long, out])
                soxes.append(s.seconds)
                soxCPU.append(s.cpuSeconds)
            }
            let p = try spawn([me, "play", long, "--out", out, "--peak-memory"], stderr: errors)
            plays.append(p.seconds)
            playCPU.append(p.cpuSeconds)
            longPeak = max(longPeak, try peak(errors))
            if let last = soxes.last { ratios.append(p.seconds / last) }
            _ = try spawn([me, "play", short, "--out", out, "--peak-memory"], stderr: errors)
            shortPeak = max(shortPeak, try peak(errors))
        }
        return Result(format: format.compact, longMinutes: longMinutes, shortMinutes: shortMinutes,
                      playSeconds: plays.min() ?? 0, soxSeconds: soxes.min(),
                      ratioToSox: soxes.min().map { (plays.min() ?? 0) / $0 }, medianRatioToSox: sox == nil ? nil : median(ratios),
                      playCPUSeconds: playCPU.min() ?? 0, soxCPUSeconds: soxCPU.min(),
                      soxSkipped: sox == nil ? "sox is not on PATH: the play-against-sox row was not run" : nil,
                      longPeakBytes: longPeak, shortPeakBytes: shortPeak,
                      peakRatio: Double(longPeak) / Double(max(1, shortPeak)), rounds: max(1, rounds))
    }

    /// A WAV file of `minutes` of the demo's test tone: one minute made once, written as
    /// many times as needed (the tone's period divides a minute, so the joins are seamless).
    static func writeTone(_ path: String, minutes: Double) throws {
        let rate = Int(format.sampleRate)
        let blocks = Int((minutes * 60 * Double(rate)).rounded())
        let minute = try SampleConversion.wavBytes(fromMemory: AudioPath.testSignal(format: format, blocks: min(blocks, 60 * rate)), stream: format)
        let wav = WAVFormat(format)
        let header = try WAVFile.header(for: wav, dataBytes: blocks * wav.blockAlign)
        guard FileManager.default.createFile(atPath: path, contents: Data(header)), let handle = FileHandle(forWritingAtPath: path) else {
            throw Failure(description: "cannot create \(path)")
        }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        var left = blocks * wav.blockAlign
        while left > 0 {
            let n = min(left, minute.count)
            try handle.write(contentsOf: minute[0..<n])
            left -= n
        }
    }

    /// This executable, as the kernel knows it.
    static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The first executable `name` on PATH.
    static func findOnPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// The peak RSS in bytes a `play --peak-memory` printed (its `VmHWM:` line, in kB).
    static func peak(_ path: String) throws -> Int {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("VmHWM:") }),
              let kB = Int(line.dropFirst("VmHWM:".count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") else {
            throw Failure(description: "azalia play --peak-memory printed no VmHWM line")
        }
        return kB * 1024
    }

    /// Runs `arguments` (standard output to /dev/null, standard error to `stderr` or
    /// /dev/null) and waits: its wall time. A non-zero exit is a failure.
    @discardableResult
    static func spawn(_ arguments: [String], stderr: String = "/dev/null") throws -> (seconds: Double, cpuSeconds: Double) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let clock = ContinuousClock()
        let start = clock.now
        var child: pid_t = 0
        let rc = posix_spawn(&child, arguments[0], &actions, nil, &argv, environ)
        guard rc == 0 else { throw Failure(description: "cannot start \(arguments[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(child, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw Failure(description: "waiting for \(arguments[0]): \(String(cString: strerror(errno)))") }
        }
        let elapsed = clock.now - start
        // Exited normally with status 0 (the wait status's low 7 bits are the signal, the next 8 the exit code).
        guard status & 0x7F == 0, (status >> 8) & 0xFF == 0 else {
            throw Failure(description: "\(arguments.joined(separator: " ")) failed (wait status \(status))")
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        func time(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return (seconds, time(usage.ru_utime) + time(usage.ru_stime))
    }

    /// The table rows: play against sox (or why it did not run), and peak memory long against short.
    static func rows(_ r: Result) -> [[String]] {
        func num(_ v: Double) -> String { String(format: v >= 100 ? "%.0f" : "%.2f", v) }
        func mib(_ bytes: Int) -> String { "\(num(Double(bytes) / 1_048_576)) MiB" }
        let long = "\(num(r.longMinutes)) min", short = "\(num(r.shortMinutes)) min"
        var rows: [[String]] = []
        if let sox = r.soxSeconds, let ratio = r.ratioToSox {
            rows.append(["play --out vs sox", "\(num(r.playSeconds)) s", "sox \(num(sox)) s", num(ratio), "<= 1.5",
                         "azalia play of a \(long) \(r.format) WAV --out, against sox IN OUT on the same file, child processes, fastest of \(r.rounds) rounds (median ratio \(num(r.medianRatioToSox ?? 0)); CPU \(num(r.playCPUSeconds)) s against \(num(r.soxCPUSeconds ?? 0)) s)"])
        } else {
            rows.append(["play --out vs sox", "\(num(r.playSeconds)) s", "-", "-", "<= 1.5", r.soxSkipped ?? "skipped"])
        }
        rows.append(["play peak memory", "\(long): \(mib(r.longPeakBytes))", "\(short): \(mib(r.shortPeakBytes))", num(r.peakRatio),
                     "<= 1.1, < 64 MiB", "peak RSS (the child's VmHWM) of azalia play --out of a \(long) and a \(short) \(r.format) WAV, largest of \(r.rounds) rounds"])
        return rows
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
