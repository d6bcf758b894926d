/// Strips what wraps a Libreswan message, so classification sees the message itself:
///
///     Nov 23 11:01:12.862865: "westnet-eastnet" #1: authentication failed: ...      (logfile=, logtime=yes)
///     Nov 22 12:34:05 gw pluto[123]: "westnet-eastnet" #1: ...                        (syslog / journal short)
///     2026-11-22T12:34:05.123456+00:00 gw pluto[123]: ...                              (journal short-iso)
///     003 "westnet-eastnet" #1: IKE SA authentication request rejected by peer: ...    (whack, Libreswan 3.x/4.x)
///     1v2 "westnet-eastnet" #1: sent IKE_SA_INIT request                              (whack new-state prefix)
public enum LogPrefix {
    public static func strip(_ line: Substring) -> Substring {
        var s = line
        s = stripTimestamp(s)
        s = stripSyslogProgram(s)
        s = stripWhackCode(s)
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
