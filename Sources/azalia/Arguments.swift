public import ArgumentParser
public import Azalia
public import HDAController

// Values the tool takes on its command line, parsed by argument-parser itself: a bad value is
// a usage error (exit 64) that names the allowed values, and `--help` lists them.

extension ControllerProfile: ExpressibleByArgument {
    /// A profile by name.
    public init?(argument: String) {
        guard let p = ControllerProfile.named(argument) else { return nil }
        self = p
    }
    /// The profile names.
    public static var allValueStrings: [String] { ControllerProfile.all.map(\.name) }
    /// The name, as `--help` shows the default.
    public var defaultValueDescription: String { name }
}

extension DDIInterface: ExpressibleByArgument {}
extension VerbPath: ExpressibleByArgument {}
extension ConverterFault: ExpressibleByArgument {}
extension StressKind: ExpressibleByArgument {}
