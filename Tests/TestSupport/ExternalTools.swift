import Foundation

/// Runs external tools (sox, espeak-ng) for cross-checks.
public enum Tool {
    /// The full path of a tool on PATH, or nil.
    public static func path(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// True when sox is installed.
    public static let hasSox = path("sox") != nil
    /// True when espeak-ng is installed.
    public static let hasEspeak = path("espeak-ng") != nil

    /// Runs a tool and returns its exit status and standard output.
    @discardableResult
    public static func run(_ name: String, _ args: [String]) throws -> (status: Int32, output: String) {
        guard let exe = path(name) else { throw ToolMissing(name: name) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    public struct ToolMissing: Error, CustomStringConvertible {
        public var name: String
        public var description: String { "\(name) is not installed" }
    }
}
