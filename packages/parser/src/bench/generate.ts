// A large, realistic Dockerfile for the parse benchmark: many stages, long
// continuations, heredocs, mounts, variables and stage references.

function stage(i: number): string {
  const prev = i > 0 ? `s${i - 1}` : "";
  const lines = [
    `# stage ${i}: build step with dependencies`,
    `FROM --platform=$BUILDPLATFORM alpine:3.20 AS s${i}`,
    `ARG VERSION_${i}=1.${i}.0 TARGETARCH`,
    `ENV APP_HOME=/opt/app${i} PATH=/opt/app${i}/bin:$PATH LANG=C.UTF-8 DESCRIPTION="stage number ${i}"`,
    `LABEL org.opencontainers.image.version="$VERSION_${i}" org.opencontainers.image.title="s${i}"`,
    `WORKDIR /src/${i}`,
    "RUN set -eux; \\",
  ];
  for (let k = 0; k < 16; k++) lines.push(`    apk add --no-cache package-${k}-${i} && echo "installed ${k} of ${i}" >> /var/log/install.log; \\`);
  lines.push("    echo done");
  lines.push(`RUN --mount=type=cache,target=/root/.cache,id=cache-${i},sharing=locked \\`);
  lines.push(`    --mount=type=bind,source=src/${i},target=/src/${i},rw \\`);
  lines.push(`    make -C /src/${i} VERSION=\${VERSION_${i}} ARCH=\${TARGETARCH:-amd64} all`);
  lines.push(`COPY --chown=1000:1000 --chmod=0644 <<EOF /etc/app${i}.conf`);
  for (let k = 0; k < 12; k++) lines.push(`setting_${k} = value ${k} for stage ${i} with \${VERSION_${i}}`);
  lines.push("EOF");
  lines.push("RUN <<-'SCRIPT' sh");
  for (let k = 0; k < 8; k++) lines.push(`\techo "step ${k}" && test -d /src/${i}`);
  lines.push("\tSCRIPT");
  if (prev) lines.push(`COPY --from=${prev} --link /opt/app${i - 1}/ /opt/prev/`);
  lines.push(`EXPOSE ${8000 + (i % 1000)}/tcp`);
  lines.push(`HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD ["/opt/app${i}/bin/health", "--quick"]`);
  lines.push(`ENTRYPOINT ["/opt/app${i}/bin/run"]`);
  lines.push(`CMD ["--port", "${8000 + (i % 1000)}"]`);
  lines.push("");
  return lines.join("\n") + "\n";
}

/** A Dockerfile of at least `bytes` UTF-8 bytes (ASCII only, so characters = bytes). */
export function generateDockerfile(bytes: number): string {
  const parts: string[] = ["# syntax=docker/dockerfile:1\nARG BASE_VERSION=3.20\n"];
  let size = parts[0].length;
  for (let i = 0; size < bytes; i++) {
    const s = stage(i);
    parts.push(s);
    size += s.length;
  }
  return parts.join("");
}
