/// What the guest does once the sound card is up: the /job/run script the guest's /init
/// sources, and the files it needs.
public enum GuestJob {
    /// aplay of a WAV file to card 0's first playback device, hw:0,N (no plug: the driver
    /// gets the file's own format); N is 0 for an analog codec, 3 for an HDMI codec.
    case play(wav: [UInt8])
    /// arecord of `frames` frames in the file's format from hw:0,0; the recording leaves
    /// the guest raw through the second serial port.
    case record(rate: UInt32, bits: UInt16, channels: UInt16, frames: Int)
    /// An interactive shell on the console.
    case shell

    /// The archive holding /job/run and its files (empty for the shell: /init then starts one).
    public var archive: [UInt8] {
        var a = NewcArchive()
        a.addDirectory("job")
        switch self {
        case .play(let wav):
            a.addFile("job/input.wav", data: wav)
            a.addFile("job/run", data: Array(Self.playScript.utf8), mode: 0o755)
        case .record(let rate, let bits, let channels, let frames):
            a.addFile("job/run", data: Array(Self.recordScript(rate: rate, bits: bits, channels: channels, frames: frames).utf8),
                      mode: 0o755)
        case .shell:
            break
        }
        return a.finished()
    }

    /// Non-blocking aplay (-N): under TCG there are no period interrupts, and in
    /// non-blocking mode ALSA reads the DMA position on every call instead of waiting.
    /// The generic parser leaves Master muted at 0; a codec without amplifiers has no Master.
    static let playScript = """
        amixer -q sset Master 100% unmute 2>/dev/null
        amixer -q sset PCM 100% unmute 2>/dev/null
        dev=$(grep playback /proc/asound/pcm | head -n 1 | cut -d: -f1 | cut -d- -f2 | sed 's/^0*//')
        echo "azalia-guest: aplay start $(cut -d' ' -f1 /proc/uptime) on hw:0,${dev:-0}"
        aplay -N -D hw:0,${dev:-0} /job/input.wav
        echo "azalia-guest: aplay exit $? at $(cut -d' ' -f1 /proc/uptime)"

        """

    static func recordScript(rate: UInt32, bits: UInt16, channels: UInt16, frames: Int) -> String {
        let format = bits == 8 ? "U8" : bits == 16 ? "S16_LE" : bits == 24 ? "S24_3LE" : "S32_LE"
        return """
            amixer -q sset Capture 100% cap 2>/dev/null
            echo "azalia-guest: arecord start $(cut -d' ' -f1 /proc/uptime)"
            arecord -N -D hw:0,0 -t wav -f \(format) -r \(rate) -c \(channels) -s \(frames) /tmp/rec.wav
            echo "azalia-guest: arecord exit $? at $(cut -d' ' -f1 /proc/uptime)"
            echo "azalia-guest: recording bytes $(wc -c < /tmp/rec.wav)"
            stty -F /dev/ttyS1 raw -echo
            cat /tmp/rec.wav > /dev/ttyS1

            """
    }
}
