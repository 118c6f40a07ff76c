import Foundation
import Testing

@Suite("azalia profiles")
struct ProfilesCommandTests {
    @Test("The list names every profile and marks ich6 as the default")
    func list() throws {
        let run = try azalia("profiles")
        #expect(run.status == 0)
        for name in ["ich6", "ich9", "skylake-pch", "azalia-bidi"] { #expect(run.stdout.contains(name)) }
        #expect(run.stdout.split(separator: "\n").first { $0.hasPrefix("ich6") }?.contains("(default)") == true)
    }

    @Test("Skylake's details are read back from GCAP: 9 output, 7 input engines, descriptors from 0x80")
    func skylakeDetail() throws {
        let run = try azalia("profiles", "skylake-pch", "--json")
        #expect(run.status == 0)
        let object = try jsonObject(run.stdout)
        #expect(object["gcap"] as? String == "0x9701")
        #expect(object["outputEngines"] as? Int == 9)
        #expect(object["inputEngines"] as? Int == 7)
        #expect(object["pciId"] as? String == "8086:9D70")
        let engines = try #require(object["engines"] as? [[String: Any]])
        #expect(engines.count == 16)
        #expect(engines[0]["kind"] as? String == "input")
        #expect(engines[7]["descriptorOffset"] as? String == "0x0160")
        #expect(engines[7]["kind"] as? String == "output")
        #expect(object["sdoBudgetBitsPerLine"] as? Int == 960)
    }

    @Test("The bidirectional profile shows 4 SDO lines and bidirectional engines last")
    func bidiDetail() throws {
        let run = try azalia("profiles", "azalia-bidi")
        #expect(run.status == 0)
        #expect(run.stdout.contains("4 SDO lines"))
        #expect(run.stdout.contains("bidirectional"))
    }

    @Test("An unknown profile is a usage error (exit 64) on every command, naming the value and the known profiles", arguments: [
        ["profiles", "ich99"], ["demo", "--profile", "ich99"], ["demo", "--profile", "ich99", "--json"],
        ["play", "x.wav", "--profile", "ich99"], ["record", "--from", "x.wav", "--out", "y.wav", "--profile", "ich99"],
        ["plan", "--profile", "ich99", "--render", "48000/16/2"], ["bench", "--profile", "ich99"],
    ])
    func unknown(_ arguments: [String]) throws {
        let run = try azalia(arguments: arguments)
        #expect(run.status == 64)
        #expect(run.stderr.hasPrefix("Error: ") && run.stderr.contains("'ich99'"))
        for name in ["ich6", "ich9", "skylake-pch", "azalia-bidi"] { #expect(run.stderr.contains(name)) }
        #expect(run.stdout.isEmpty)
    }
}
