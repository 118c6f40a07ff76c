import Azalia
import Foundation

/// libFuzzer's entry: one input through `Stress.fuzz(.wav)`; a broken rule stops the fuzzer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if let broken = Stress.fuzz(.wav, input: data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []) { fatalError(broken) }
    return 0
}

#if !FUZZING
/// Without libFuzzer (a plain `swift build`): tries the files given as arguments.
@main struct Replay {
    static func main() { exit(Stress.replay(.wav, paths: Array(CommandLine.arguments.dropFirst()))) }
}
#endif
