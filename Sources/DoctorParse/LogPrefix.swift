import Foundation

/// Strips what wraps a Libreswan message, so classification sees the message itself:
///
///     Nov 23 11:01:12.862865: "westnet-eastnet" #1: authentication failed: ...      (logfile=, logtime=yes)
///     Nov 22 12:34:05 gw pluto[123]: "westnet-eastnet" #1: ...                        (syslog / journal short)
///     2026-11-22T12:34:05.123456+00:00 gw pluto[123]: ...                              (journal short-iso)
///     003 "westnet-eastnet" #1: IKE SA authentication request rejected by peer: ...    (whack, Libreswan 3.x/4.x)
///     1v2 "westnet-eastnet" #1: sent IKE_SA_INIT request                              (whack new-state prefix)
///     [12345.678901] gw pluto[123]: ...                                                (journal short-monotonic)
///     1764645955.123456 gw pluto[123]: ...                                             (journal short-unix)
///     Wed 2026-12-02 03:05:55 UTC gw pluto[123]: ...                                   (journal short-full)
///     {"__REALTIME_TIMESTAMP":"...","MESSAGE":"..."}                                   (journal json)
///         MESSAGE=...                                                                  (journal verbose)
///
/// Whatever the wrapping, a debug line (`| ...`) must come out starting with `|`: debug output may hold
/// key material, and it is never evidence.
public enum LogPrefix {
    public static func strip(_ line: Substring) -> Substring {
        var s = line
        s = stripJournalWrapping(s)
        s = stripTimestamp(s)
        s = stripSyslogProgram(s)
        s = stripWhackCode(s)
        return s
    }

    static let weekdays: Set<Substring> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    /// journal `json` (the MESSAGE value), `verbose` (`MESSAGE=`), `short-monotonic`,
    /// `short-unix` and `short-full` heads; what follows is the `host pluto[pid]: ` the other formats have too.
    static func stripJournalWrapping(_ s: Substring) -> Substring {
        // The hot path: most lines start with a month name or a quote; decide on the first byte, in bytes.
        guard let b = s.utf8.first(where: { $0 != 32 && $0 != 9 }),
            b == UInt8(ascii: "{") || b == UInt8(ascii: "M") || b == UInt8(ascii: "[") || (b >= 48 && b <= 57)
                || b == UInt8(ascii: "T") || b == UInt8(ascii: "W") || b == UInt8(ascii: "F") || b == UInt8(ascii: "S")
        else { return s }
        let t = s.drop(while: { $0 == " " || $0 == "\t" })
        if t.hasPrefix("{"), let r = t.range(of: "\"MESSAGE\"") {
            var v = t[r.upperBound...].drop(while: { $0 == " " || $0 == ":" })
            guard v.first == "\"" else { return s }
            v = v.dropFirst()
            var end = v.startIndex
            var escaped = false
            while end < v.endIndex {
                let c = v[end]
                if c == "\"" && !escaped { break }
                escaped = c == "\\" && !escaped
                end = v.index(after: end)
            }
            let raw = v[..<end]
            guard raw.contains("\\") else { return raw }
            // Undo JSON escapes (`\"`, `\\`, `\u001b`): the message as pluto wrote it.
            let data = Data(("[\"" + raw + "\"]").utf8)
            if let arr = try? JSONSerialization.jsonObject(with: data) as? [String], let m = arr.first { return Substring(m) }
            return raw
        }
        if t.hasPrefix("MESSAGE=") { return t.dropFirst("MESSAGE=".count) }
        if t.hasPrefix("["), let close = t.firstIndex(of: "]"),
            t[t.index(after: t.startIndex)..<close].allSatisfy({ $0.isNumber || $0 == "." || $0 == " " })
        {
            return t[t.index(after: close)...].drop(while: { $0 == " " })
        }
        let head = t.prefix(while: { $0.isNumber || $0 == "." })
        if head.utf8.count >= 10, head.contains("."), t[head.endIndex...].first == " " {
            return t[head.endIndex...].dropFirst()
        }
        // `Wed 2026-12-02 03:05:55 UTC ` (or with microseconds).
        if t.utf8.count > 4, weekdays.contains(t.prefix(3)), t.dropFirst(3).first == " " {
            let words = t.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true)
            if words.count == 5, words[1].count == 10, words[1].dropFirst(4).first == "-", words[2].contains(":") {
                return words[4]
            }
        }
        return s
    }

    static let months: Set<Substring> = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Nov 23 11:01:12.862865: ` or `Nov 22 12:34:05 ` or ISO-8601.
    static func stripTimestamp(_ s: Substring) -> Substring {
        if s.utf8.count > 15, months.contains(s.prefix(3)), s.dropFirst(3).first == " " {
            var rest = s.dropFirst(4).drop(while: { $0 == " " })
            rest = rest.drop(while: { $0.isNumber })  // day
            rest = rest.drop(while: { $0 == " " })
            let time = rest.prefix(while: { $0.isNumber || $0 == ":" || $0 == "." })
            guard time.utf8.count >= 8 else { return s }
            rest = rest[time.endIndex...]
            if rest.first == ":" { rest = rest.dropFirst() }
            return rest.drop(while: { $0 == " " })
        }
        if s.utf8.count > 20, s.first?.isNumber == true, s.dropFirst(4).first == "-", s.dropFirst(10).first == "T" {
            guard let sp = s.firstIndex(of: " ") else { return s }
            return s[s.index(after: sp)...]
        }
        return s
    }

    /// `host pluto[123]: ` (also `ipsec[1]:`, `pluto:`).
    static func stripSyslogProgram(_ s: Substring) -> Substring {
        guard let firstSpace = s.firstIndex(of: " ") else { return s }
        let afterHost = s[s.index(after: firstSpace)...]
        for prog in ["pluto[", "pluto:", "ipsec[", "ipsec:", "ipsec__plutorun", "charon["] where afterHost.hasPrefix(prog) {
            guard let colon = afterHost.firstIndex(of: ":") else { return s }
            return afterHost[afterHost.index(after: colon)...].drop(while: { $0 == " " })
        }
        return s
    }

    /// `000 ` .. `299 `, `1v1 `, `1v2 `.
    static func stripWhackCode(_ s: Substring) -> Substring {
        let u = Array(s.utf8.prefix(4))
        guard u.count == 4, u[3] == 32 else { return s }
        func digit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        let digits = digit(u[0]) && digit(u[1]) && digit(u[2])
        let newState = digit(u[0]) && u[1] == UInt8(ascii: "v") && digit(u[2])
        return digits || newState ? s.dropFirst(4) : s
    }
}
