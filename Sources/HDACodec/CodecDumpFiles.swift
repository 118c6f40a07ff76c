import Foundation

extension CodecDump {
    /// Reads `FILE` or `FILE#N` (the N-th codec of the file, 0-based; the first without
    /// `#N`). A file that cannot be read, that holds no codec dump, or a codec that does not
    /// read as the format says, is an error naming the file and the line.
    public static func load(_ spec: String) throws(CodecDumpError) -> CodecDump {
        var path = spec, index = 0
        if let hash = spec.lastIndex(of: "#"), let n = Int(spec[spec.index(after: hash)...]), n >= 0,
           !FileManager.default.fileExists(atPath: spec) {
            path = String(spec[..<hash])
            index = n
        }
        let text = try readText(path)
        do {
            return try parse(text, index: index)
        } catch {
            throw CodecDumpError(line: error.line, "\(path): \(error.line > 0 ? "line \(error.line): " : "")\(error.reason)")
        }
    }

    /// A file's text (bytes that are not UTF-8 replaced), or an error naming the file.
    public static func readText(_ path: String) throws(CodecDumpError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CodecDumpError(line: 0, "\(path): no such file")
        }
        guard !isDirectory.boolValue else { throw CodecDumpError(line: 0, "\(path): is a directory, not a codec dump") }
        guard let data = FileManager.default.contents(atPath: path) else { throw CodecDumpError(line: 0, "\(path): cannot be read") }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The outcome of reading every file of a folder as codec dumps (`azalia codec --check`).
public struct CodecDumpSweep: Sendable, Codable {
    /// One file that holds codec dumps and failed.
    public struct Failure: Sendable, Codable, Hashable {
        /// The file, relative to the folder.
        public var file: String
        /// The line (1-based; 0 for the file as a whole).
        public var line: Int
        /// Why.
        public var reason: String
    }

    /// Files looked at.
    public var files = 0
    /// Files holding at least one `Codec:` line.
    public var dumpFiles = 0
    /// Files without any (skipped, not failures).
    public var otherFiles = 0
    /// Codecs that loaded.
    public var codecs = 0
    /// Codecs whose re-print (asked through verbs) gave back every parameter line of the dump.
    public var roundTrips = 0
    /// Files that failed to load, by line and reason.
    public var failures: [Failure] = []
    /// Codecs whose re-print differed from the dump in a parameter line: the first such line.
    public var roundTripDifferences: [Failure] = []

    /// Reads every regular file under `folder` (recursively, in name order).
    public static func run(folder: String) throws(CodecDumpError) -> CodecDumpSweep {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CodecDumpError(line: 0, "\(folder): not a folder")
        }
        let base = URL(fileURLWithPath: folder)
        var paths: [String] = []
        if let e = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in e where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
                paths.append(String(url.path.dropFirst(base.path.count).drop { $0 == "/" }))
            }
        }
        var sweep = CodecDumpSweep()
        for rel in paths.sorted() {
            sweep.files += 1
            guard let text = try? CodecDump.readText(base.appendingPathComponent(rel).path) else {
                sweep.failures.append(Failure(file: rel, line: 0, reason: "cannot be read"))
                continue
            }
            do throws(CodecDumpError) {
                let dumps: [CodecDump]
                do throws(CodecDumpError) { dumps = try CodecDump.parseAll(text) } catch where error.line == 0 {
                    sweep.otherFiles += 1   // no codec in it: not a codec dump, skipped
                    continue
                }
                sweep.dumpFiles += 1
                sweep.codecs += dumps.count
                for (k, d) in dumps.enumerated() {
                    if let diff = d.parameterLineDifference() {
                        sweep.roundTripDifferences.append(Failure(file: rel + (dumps.count > 1 ? "#\(k)" : ""), line: diff.line, reason: diff.reason))
                    } else {
                        sweep.roundTrips += 1
                    }
                }
            } catch {
                sweep.dumpFiles += 1
                sweep.failures.append(Failure(file: rel, line: error.line, reason: error.reason))
            }
        }
        return sweep
    }
}
