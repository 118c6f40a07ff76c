import Foundation
import Testing

@Suite("azalia plan")
struct PlanCommandTests {
    @Test("Streams are allocated in command-line order, each with its status and engine")
    func order() throws {
        let run = try azalia("plan", "--render", "192000/32/8", "--capture", "0:48000/16/2", "--render", "96000/24/2")
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        let first = try #require(lines.firstIndex { $0.contains("1. render 192000/32/8") })
        #expect(lines[first].contains("STATUS_BUFFER_TOO_SMALL (0xC0000023)"))
        #expect(lines[first + 1].contains("2. capture 0:48000/16/2"))
        #expect(lines[first + 1].contains("STATUS_SUCCESS (0x00000000) -> input engine 0, tag 1, converter 0x0011, 42 bits/frame on SDI0"))
        #expect(lines[first + 2].contains("3. render 96000/24/2"))
        #expect(lines[first + 2].contains("-> output engine 4, tag 1, converter 0x0831, 96 bits/frame on SDO0"))
        #expect(run.stdout.contains("SDO0  96 / 960"))
        #expect(run.stdout.contains("SDI0  42 / 464"))
        #expect(run.stdout.contains("engine 4   8 / 48"))
    }

    @Test("--json: line use equals the sum of the charges; engines run out with INSUFFICIENT_RESOURCES")
    func json() throws {
        let args = ["plan", "--json"] + Array(repeating: ["--render", "48000/16/2"], count: 5).flatMap { $0 }
        let run = try azalia(arguments: args)
        #expect(run.status == 0)
        let object = try jsonObject(run.stdout)
        let streams = try #require(object["streams"] as? [[String: Any]])
        #expect(streams.map { $0["status"] as? String } == Array(repeating: "STATUS_SUCCESS", count: 4) + ["STATUS_INSUFFICIENT_RESOURCES"])
        #expect(streams.last?["statusValue"] as? String == "0xC000009A")
        let engines = streams.compactMap { $0["engine"] as? [String: Any] }
        #expect(engines.map { $0["index"] as? Int } == [4, 5, 6, 7])
        #expect(engines.map { $0["tag"] as? Int } == [1, 2, 3, 4])
        let sdo = try #require(object["sdo"] as? [[String: Any]])
        #expect(sdo.count == 1)
        #expect(sdo[0]["used"] as? Int == engines.reduce(0) { $0 + ($1["bitsPerLine"] as? Int ?? 0) })
        #expect(sdo[0]["budget"] as? Int == 960)
    }

    @Test("Bandwidth runs out before engines do: the request that does not fit is refused")
    func bandwidth() throws {
        // 192000/16/2: 4 blocks x 2 x 16 = 128 bits per frame; 7 fit in 960, the 8th does not.
        let args = ["plan", "--profile", "skylake-pch", "--json"] + Array(repeating: ["--render", "192000/16/2"], count: 8).flatMap { $0 }
        let object = try jsonObject(try azalia(arguments: args).stdout)
        let statuses = (object["streams"] as? [[String: Any]])?.map { $0["status"] as? String }
        #expect(statuses == Array(repeating: "STATUS_SUCCESS", count: 7) + ["STATUS_INSUFFICIENT_RESOURCES"])
    }

    @Test("Striping on the 4-SDO profile charges a quarter to each line")
    func striping() throws {
        let run = try azalia("plan", "--profile", "azalia-bidi", "--render", "192000/16/8:stripe", "--json")
        let object = try jsonObject(run.stdout)
        let engine = try #require((object["streams"] as? [[String: Any]])?.first?["engine"] as? [String: Any])
        #expect(engine["lines"] as? String == "SDO0-SDO3")
        #expect(engine["bitsPerLine"] as? Int == 4 * 8 * 16 / 4)
        let sdo = (object["sdo"] as? [[String: Any]])?.map { $0["used"] as? Int }
        #expect(sdo == [128, 128, 128, 128])
    }

    @Test("The DDI's refusals are answers: an invalid format and a codec address with no codec")
    func refusals() throws {
        let run = try azalia("plan", "--codecs", "0", "--render", "44000/16/2", "--capture", "14:48000/16/2", "--json")
        #expect(run.status == 0)
        let statuses = (try jsonObject(run.stdout)["streams"] as? [[String: Any]])?.map { $0["status"] as? String }
        #expect(statuses == ["STATUS_INVALID_PARAMETER", "STATUS_INVALID_PARAMETER"])
    }

    @Test("A capture at another codec's address charges that SDI line")
    func otherAddress() throws {
        let object = try jsonObject(try azalia("plan", "--capture", "2:96000/24/2", "--json").stdout)
        let sdi = try #require(object["sdi"] as? [[String: Any]])
        #expect(sdi[2]["used"] as? Int == 10 + 8 * (2 * 2 * 24 / 8))
        #expect(sdi[0]["used"] as? Int == 0)
    }

    @Test("--trace writes the DDI calls with their statuses")
    func trace() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("plan.json")
        let run = try azalia("plan", "--render", "48000/16/2", "--render", "192000/32/16", "--trace", url.path)
        #expect(run.status == 0)
        let ddi = try traceEvents(url).filter { $0["cat"] as? String == "ddi" }
        #expect(ddi.count == 2)
        #expect(ddi.map { ($0["args"] as? [String: Any])?["status"] as? String } == ["STATUS_SUCCESS", "STATUS_BUFFER_TOO_SMALL"])
    }

    @Test("Errors are one line on standard error with a non-zero exit", arguments: [
        (["plan", "--render", "fast"], "is not RATE/BITS/CHANNELS"),
        (["plan", "--capture", "x:48000/16/2"], "codec address must be 0 to 14"),
        (["plan", "--capture", "15:48000/16/2"], "codec address must be 0 to 14"),
        (["plan", "--render", "48000/16/2", "--trace", "/nonexistent-dir/t.json"], "cannot write the trace"),
        (["plan", "--render", "48000/16/2", "--codecs", "0,x"], "give codec addresses 0 to 14"),
    ])
    func errors(_ arguments: [String], _ message: String) throws {
        let run = try azalia(arguments: arguments)
        #expect(run.status == 1)
        let line = try #require(errorLine(run), "stderr: \(run.stderr)")
        #expect(line.contains(message))
    }

    @Test("No stream at all is a usage error")
    func nothing() throws {
        let run = try azalia("plan")
        #expect(run.status == 64)
        #expect(run.stderr.contains("at least one --render or --capture"))
    }

    @Test("--help shows examples and the allowed values")
    func help() throws {
        let run = try azalia("plan", "--help")
        #expect(run.status == 0)
        for text in ["Examples:", "ADDRESS:FORMAT", "--codecs", "FORMAT:stripe", "azalia-bidi", "RATE/BITS/CHANNELS"] {
            #expect(run.stdout.contains(text), "\(text) missing")
        }
    }
}
