import Foundation
import HDACodec
import Testing

/// The C tests (Tests/CDriverTests/C): compiled by the system C compiler against
/// the headers and library as scripts/install-c.sh installs them, and run; each must exit 0.
@Suite("C function drivers against libazalia")
struct CDriverTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The build folder holding libazalia-c.so: the test bundle's own folder.
    static func libraryFolder() -> URL? {
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL)
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("libazalia-c.so").path) }
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [executable] + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The sanitizer this test bundle was built with (`swift test --sanitize=address` or `thread`),
    /// if any: libazalia-c is then instrumented too, so a C program linked against it needs the same
    /// sanitizer runtime, which only the toolchain's own clang links (the system cc's is another one).
    /// TSan's runtime intercepts libdispatch, so the program also links the toolchain's libdispatch
    /// and BlocksRuntime (from where this process loaded libdispatch).
    static let sanitizer: (compiler: String, flags: [String], libraries: [String]) = {
        if dlsym(nil, "__asan_init") != nil { return ("clang", ["-fsanitize=address"], []) }
        guard dlsym(nil, "__tsan_init") != nil else { return ("cc", [], []) }
        // Read to the end (String(contentsOfFile:) stops after the first page of a /proc file).
        let maps = FileHandle(forReadingAtPath: "/proc/self/maps").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
        guard let line = maps.split(separator: "\n").first(where: { $0.hasSuffix("/libdispatch.so") }),
              let slash = line.firstIndex(of: "/") else { return ("clang", ["-fsanitize=thread"], []) }
        let dir = URL(fileURLWithPath: String(line[slash...])).deletingLastPathComponent().path
        return ("clang", ["-fsanitize=thread"], ["-L", dir, "-ldispatch", "-lBlocksRuntime", "-Wl,-rpath,\(dir)"])
    }()

    /// The headers and the library installed by scripts/install-c.sh (from this build) into
    /// a prefix in the build folder, once per test run: the C tests build against what a user installs.
    static let installed: Result<URL, InstallError> = {
        guard let lib = libraryFolder() else { return .failure(InstallError(message: "libazalia-c.so not found beside the test bundle")) }
        // Inside the build folder (replaced on every run, removed with the build).
        let prefix = lib.appendingPathComponent("azalia-c-install")
        do {
            let r = try run(root.appendingPathComponent("scripts/install-c.sh").path, [prefix.path, "--from", lib.path])
            return r.status == 0 ? .success(prefix) : .failure(InstallError(message: "install-c.sh failed:\n\(r.output)"))
        } catch {
            return .failure(InstallError(message: "install-c.sh did not run: \(error)"))
        }
    }()

    struct InstallError: Error { let message: String }

    /// Compiles a C program against the installed headers and library (`-lazalia`).
    static func compile(_ source: String, into out: URL, extra: [String] = []) throws -> (ok: Bool, output: String) {
        let prefix: URL
        switch installed {
        case .success(let p): prefix = p
        case .failure(let e): return (false, e.message)
        }
        let include = prefix.appendingPathComponent("include/azalia").path, lib = prefix.appendingPathComponent("lib").path
        let cc = try run(sanitizer.compiler, sanitizer.flags + ["-std=c11", "-Wall", "-Wextra", "-Werror", "-I", include] + extra
                         + [root.appendingPathComponent(source).path, "-L", lib, "-lazalia", "-Wl,-rpath,\(lib)", "-o", out.path] + sanitizer.libraries)
        return (cc.status == 0, cc.output)
    }

    /// The codec dumps of real machines that ship as test data.
    static let dumps: [String] = {
        let folder = root.appendingPathComponent("Tests/CodecDumps")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".txt") }.sorted()
    }()

    /// Builds example `name`, runs it on a quarter second of 48 kHz stereo noise (with the
    /// codec of `dump`, a file in Tests/CodecDumps, when given) and checks its output file
    /// against the input independently of the example's own check.
    func runExample(_ name: String, dump: String?) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("azalia-example-\(name)-\(dump ?? "virtual")-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let exe = dir.appendingPathComponent(name)
        let built = try Self.compile("examples/\(name).c", into: exe)
        #expect(built.ok, "cc failed:\n\(built.output)")
        guard built.ok else { return }
        // Every bit matters.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let samples = (0..<(12_000 * 4)).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let format = WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16)
        let input = dir.appendingPathComponent("in.wav"), output = dir.appendingPathComponent("out.wav")
        try Data(try WAVFile.header(for: format, dataBytes: samples.count) + samples).write(to: input)
        let codec = dump.map { [Self.root.appendingPathComponent("Tests/CodecDumps/\($0)").path] } ?? []
        let result = try Self.run(exe.path, [input.path, output.path] + codec)
        #expect(result.status == 0, "\(name) failed:\n\(result.output)")
        #expect(result.output.contains("bit for bit"))
        let written = try WAVFile.parse(try Data(contentsOf: output))
        #expect(written.data == samples)
        #expect(written.format.sampleRate == 48000 && written.format.channels == 2)
    }

    @Test("The example drivers play and capture a WAV file bit for bit", arguments: ["play", "capture"])
    func example(_ name: String) throws {
        try runExample(name, dump: nil)
    }

    @Test("The example drivers walk a real chip's graph and play and capture bit for bit through it",
          arguments: ["play", "capture"], CDriverTests.dumps)
    func exampleThroughDump(_ name: String, dump: String) throws {
        try runExample(name, dump: dump)
    }

    @Test("Six or more codec dumps ship for the examples to run through")
    func dumpsShip() {
        #expect(Self.dumps.count >= 6)
    }

    @Test("Each C test compiles with -Wall -Werror against hdaudio.h and passes", arguments: ["layout", "routines", "endpoints", "faults", "irql", "loopback"])
    func cTest(_ name: String) throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("azalia-ctest-\(name)-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        let dumps = Self.root.appendingPathComponent("Tests/CodecDumps").path
        let cc = try Self.compile("Tests/CDriverTests/C/\(name).c", into: out, extra: ["-DDUMP_DIR=\"\(dumps)\""])
        #expect(cc.ok, "cc failed:\n\(cc.output)")
        guard cc.ok else { return }
        let result = try Self.run(out.path, [])
        #expect(result.status == 0, "\(name) failed:\n\(result.output)")
        #expect(result.output.contains(", 0 failed"))
    }
}
