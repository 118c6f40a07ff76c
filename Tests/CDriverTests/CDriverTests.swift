import Foundation
import Testing

/// The C tests (Tests/CDriverTests/C): compiled by the system C compiler against
/// Sources/CAzalia/include and the built libazalia-c, and run; each must exit 0.
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

    @Test("Each C test compiles with -Wall -Werror against hdaudio.h and passes", arguments: ["layout", "routines"])
    func cTest(_ name: String) throws {
        let lib = try #require(Self.libraryFolder(), "libazalia-c.so not found beside the test bundle (swift build builds it)")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("azalia-ctest-\(name)-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        let source = Self.root.appendingPathComponent("Tests/CDriverTests/C/\(name).c").path
        let include = Self.root.appendingPathComponent("Sources/CAzalia/include").path
        let cc = try Self.run("cc", ["-std=c11", "-Wall", "-Wextra", "-Werror", "-I", include, source,
                                     "-L", lib.path, "-lazalia-c", "-Wl,-rpath,\(lib.path)", "-o", out.path])
        #expect(cc.status == 0, "cc failed:\n\(cc.output)")
        guard cc.status == 0 else { return }
        let result = try Self.run(out.path, [])
        #expect(result.status == 0, "\(name) failed:\n\(result.output)")
        #expect(result.output.contains(", 0 failed"))
    }
}
