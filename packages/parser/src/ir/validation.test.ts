import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../lexer/parser.js";
import { toStages } from "./stages.js";
import { DockerfileSyntaxError } from "../errors.js";

function err(src: string): DockerfileSyntaxError {
  try {
    toStages(parseDockerfile(src, { file: "app/Dockerfile" }));
  } catch (e) {
    if (e instanceof DockerfileSyntaxError) return e;
    throw e;
  }
  throw new Error(`expected a DockerfileSyntaxError for ${JSON.stringify(src)}`);
}

// [instruction line (after "FROM a\n"), message, column]
const cases: Array<[string, string | RegExp, number]> = [
  ["FOOBAR x", "unknown instruction: FOOBAR", 1],
  ["  RUNN echo", "unknown instruction: RUNN (did you mean RUN?)", 3],
  ["USER", "USER requires exactly one argument", 1],
  ["WORKDIR", "WORKDIR requires exactly one argument", 1],
  ["STOPSIGNAL", "STOPSIGNAL requires exactly one argument", 1],
  ["MAINTAINER", "MAINTAINER requires exactly one argument", 1],
  ["EXPOSE", "EXPOSE requires at least one argument", 1],
  ["VOLUME", "VOLUME requires at least one argument", 1],
  ['VOLUME ["/a", " "]', "VOLUME specified can not be an empty string", 1],
  ["ARG", "ARG requires at least one argument", 1],
  ["ARG =x", "ARG names can not be blank", 5],
  ["ENV", "ENV requires at least one argument", 1],
  ["LABEL =x", "LABEL names can not be blank", 1],
  ["ONBUILD", "ONBUILD requires at least one argument", 1],
  ["ONBUILD ONBUILD RUN x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", 9],
  ["ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger", 9],
  ["ONBUILD maintainer me", "MAINTAINER isn't allowed as an ONBUILD trigger", 9],
  ["ONBUILD RUN --bogus x", /^unknown flag: --bogus/, 13],
  ["SHELL", "SHELL requires at least one argument", 1],
  ["SHELL /bin/bash -c", /^SHELL requires the arguments to be in JSON form/, 1],
  ["COPY x", "COPY requires at least two arguments, but only one was provided. Destination could not be determined", 1],
  ["ADD x", "ADD requires at least two arguments, but only one was provided. Destination could not be determined", 1],
  ['COPY ["a", "<<EOF"]', "COPY cannot accept a heredoc as a destination", 13],
  ["COPY --user=me a b", "unknown flag: --user", 6],
  ["COPY --from=a --from=b x y", "duplicate flag specified: --from", 15],
  ["COPY --chown a b", "missing a value on flag: --chown", 6],
  ["COPY --link= a b", "missing a value on flag: --link", 6],
  ["COPY --link=yes a b", "expecting boolean value for flag --link, not: yes", 6],
  ["ADD --checksum a b", "missing a value on flag: --checksum", 5],
  ["ADD --from=x a b", /^unknown flag: --from/, 5],
  ["COPY --checksum=sha256:x a b", /^unknown flag: --checksum/, 6],
  ["RUN --network=bridge x", 'invalid network mode "bridge" (expected default, none or host)', 5],
  ["RUN --security=privileged x", 'security "privileged" is not valid (expected sandbox or insecure)', 5],
  ["RUN --mount=type=nfs,target=/x x", 'unsupported mount type "nfs"', 5],
  ["RUN --mount=type=cache,target=/x,sharing=all x", 'unsupported sharing value "all"', 5],
  ["RUN --mount=type=bind,target=/x,mode=0755 x", 'mode not allowed for "bind" type mounts', 5],
  ["RUN --mount=type=tmpfs,target=/x,uid=1 x", 'uid not allowed for "tmpfs" type mounts', 5],
  ["RUN --mount=type=cache,target=/x,mode=999 x", "invalid value 999 for mode", 5],
  ["RUN --mount=type=cache,target=/x,uid=-1 x", "invalid value -1 for uid", 5],
  ["RUN --mount=type=bind,target=/x,required x", "unexpected key 'required' for mount type 'bind'", 5],
  ["RUN --mount=type=bind,target=/x,size=1m x", "unexpected key 'size' for mount type 'bind'", 5],
  ["RUN --mount=type=tmpfs,target=/x,size=lots x", "invalid value for size: lots", 5],
  ["RUN --mount=type=bind,target=/x,ro=maybe x", "invalid value for ro: maybe", 5],
  ["RUN --mount=type=bind,target=/x,trget=/y x", /^unexpected key 'trget' in 'trget=\/y' \(did you mean target\?\)/, 5],
  ["RUN --mount=type=bind,target=/x,verbose x", "invalid field 'verbose' must be a key=value pair", 5],
  ["RUN --mount=type=secret,from=x,id=a x", "secret mount should not have a from", 5],
  ["RUN --mount=type=secret,required x", "invalid secret mount. one of source, target required", 5],
  ["RUN --mount=type=secret,source=a,id=b x", "both source and id can't be set", 5],
  ["RUN --mount=type=ssh,source=a x", "ssh does not support source", 5],
  ["RUN --mount=type=tmpfs,target=/x,sharing=locked x", "invalid cache sharing set for tmpfs mount", 5],
  ['RUN --mount=type=bind,\\"target=/x x', /^failed to parse csv mounts: extraneous or missing " in quoted-field/, 5],
  ["HEALTHCHECK", "HEALTHCHECK requires at least one argument", 1],
  ["HEALTHCHECK NONE x", "HEALTHCHECK NONE takes no arguments", 18],
  ["HEALTHCHECK CONNECT TCP 7000", 'Unknown type "CONNECT" in HEALTHCHECK (try CMD)', 13],
  ["HEALTHCHECK CMD", "Missing command after HEALTHCHECK CMD", 1],
  ["HEALTHCHECK --retries=-1 CMD x", "--retries cannot be negative (-1)", 13],
  ["HEALTHCHECK --retries=three CMD x", /^invalid value for --retries: "three"/, 13],
  ["HEALTHCHECK --interval=10 CMD x", 'invalid value for --interval: time: missing unit in duration "10"', 13],
  ["HEALTHCHECK --timeout=5x CMD x", 'invalid value for --timeout: time: unknown unit "x" in duration "5x"', 13],
  ["HEALTHCHECK --start-period=1.s.s CMD x", /^invalid value for --start-period: time: (invalid|unknown|missing)/, 13],
  ["HEALTHCHECK --start-interval=500us CMD x", 'Interval "start-interval" cannot be less than 1ms', 13],
  ["HEALTHCHECK --retires=3 CMD x", "unknown flag: --retires (did you mean retries?)", 13],
  ["ENV --x=1 A=b", "unknown flag: --x", 5],
  ["CMD --x [\"a\"]", "unknown flag: --x", 5],
];

describe("validation errors", () => {
  it.each(cases)("%s", (line, message, column) => {
    const e = err(`FROM a\n${line}\n`);
    if (typeof message === "string") expect(e.reason).toBe(message);
    else expect(e.reason).toMatch(message);
    expect([e.file, e.line, e.column]).toEqual(["app/Dockerfile", 2, column]);
    expect(e.sourceLine).toBe(line);
  });

  it("formats a user message with the line and a caret", () => {
    const e = err("FROM a\n\tRUN --netwrk=none true\n");
    expect(e.format()).toBe(
      "app/Dockerfile:2:6: unknown flag: --netwrk (did you mean network?)\n 2 | \tRUN --netwrk=none true\n   | \t    ^",
    );
    expect(e.message).toBe("app/Dockerfile:2:6: unknown flag: --netwrk (did you mean network?)");
  });

  it("reports a bad check directive at its line", () => {
    const e = err("# check=skip=A;warn=true\nFROM a\n");
    expect(e.reason).toBe('failed to parse check options: invalid check option "warn"');
    expect(e.line).toBe(1);
  });
});
