import Foundation

/// The walks as fuzz targets: libFuzzer (the FuzzWAV, FuzzGuest and FuzzDDI executables, built
/// with `swift build --sanitize=fuzzer -Xswiftc -DFUZZING`) calls `fuzz` with each input it makes.
extension Stress {
    /// Tries one fuzzer input; returns the rule it broke, or nil. For `.wav` the input is the file
    /// itself; for `.guest` and `.ddi` it steers the walk's choices, step after step, until it is
    /// used up (a trap is the fuzzer's to catch).
    public static func fuzz(_ kind: StressKind, input: [UInt8]) -> String? {
        var counts: [String: Int] = [:]
        do throws(StressViolation) {
            switch kind {
            case .wav:
                try WAVMutationWalk.check(input, step: 0, counts: &counts)
            case .guest:
                var walk = GuestWalk(input: input)
                try walk.run(steps: .max, counts: &counts, progress: nil)
            case .ddi:
                var walk = DDIWalk(input: input)
                try walk.run(steps: .max, counts: &counts, progress: nil)
            }
        } catch {
            return "\(kind.rawValue) fuzz input, step \(error.step): \(error.message)"
        }
        return nil
    }

    /// What a fuzz executable built without libFuzzer does: tries each file named in `paths`
    /// (a crash or corpus file) as one input, printing one line per file; 0 if every file held.
    public static func replay(_ kind: StressKind, paths: [String]) -> Int32 {
        guard !paths.isEmpty else {
            print("Built without libFuzzer: give input files to try, or build with swift build --sanitize=fuzzer -Xswiftc -DFUZZING (README, Reliability).")
            return 64
        }
        var failed = false
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): cannot read the file")
                failed = true
                continue
            }
            if let broken = fuzz(kind, input: [UInt8](data)) {
                print("\(path): \(broken)")
                failed = true
            } else {
                print("\(path): held")
            }
        }
        return failed ? 1 : 0
    }
}
