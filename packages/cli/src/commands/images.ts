// Commands that work on images in the local store or move them in and out of it.

import { type Command, Option } from "commander";
import { collect, lazyAction } from "../program-kit.js";

/** Declares images, inspect, history, tag, rmi, save, load, import, push and pull. */
export function defineImageCommands(program: Command): void {
  lazyAction(
    program
      .command("images")
      .description("list images in the local store")
      .argument("[repository]", "only images of this repository (name without tag)")
      .addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table"))
      .option("-q, --quiet", "print only image IDs")
      .option("--no-trunc", "do not truncate image IDs")
      .option("--digests", "show manifest digests"),
    () => import("../actions/images.js"),
  );
  lazyAction(
    program
      .command("inspect")
      .description("print the manifest and config of an image as JSON (a name that is no image: the container's configuration and state)")
      .argument("<ref...>", "image names, tags or IDs")
      .addOption(new Option("--type <what>", "what to print").choices(["image", "manifest", "config"]).default("image")),
    () => import("../actions/inspect.js"),
  );
  lazyAction(
    program
      .command("history")
      .description("show the history of an image: one row per Dockerfile step")
      .argument("<ref>", "image name, tag or ID")
      .option("--no-trunc", "do not truncate the CREATED BY column")
      .option("-H, --human <bool>", "human-readable sizes and dates (true|false)", "true")
      .addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table")),
    () => import("../actions/history.js"),
  );
  lazyAction(
    program.command("tag").description("give an image another name").argument("<source>", "existing image").argument("<target>", "new name[:tag]"),
    () => import("../actions/tag.js"),
  );
  lazyAction(
    program
      .command("rmi")
      .description("remove image names (and the images no name refers to any more)")
      .argument("<ref...>", "image names, tags or IDs")
      .option("-f, --force", "remove an image ID even when several names refer to it"),
    () => import("../actions/rmi.js"),
  );
  lazyAction(
    program
      .command("save")
      .description("write images to a tarball (OCI archive by default, or docker-archive)")
      .argument("<ref...>", "images to save")
      .requiredOption("-o, --output <file>", "destination tarball")
      .addOption(new Option("--format <format>", "archive format").choices(["oci", "docker"]).default("oci"))
      .option("--platform <os/arch>", "of a multi-platform image, save only this platform's image (default: the whole index)"),
    () => import("../actions/save.js"),
  );
  lazyAction(
    program
      .command("load")
      .description("load images from an OCI archive or docker-archive tarball (detected)")
      .requiredOption("-i, --input <file>", "tarball to read")
      .option("-q, --quiet", "print only the loaded image names"),
    () => import("../actions/load.js"),
  );
  lazyAction(
    program
      .command("import")
      .description("create a single-layer base image from a root filesystem tarball, like docker import")
      .argument("<rootfs-tar>", "tarball of the root filesystem (may be gzip/zstd/xz compressed), or - for stdin")
      .argument("<ref>", "name[:tag] for the new image")
      .option("-c, --change <instruction>", "apply a Dockerfile instruction to the config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL); repeatable", collect)
      .option("-m, --message <text>", "history comment")
      .option("--platform <os/arch>", "platform of the image (default: the host's)"),
    () => import("../actions/import.js"),
  );
  lazyAction(
    program
      .command("push")
      .description("push an image from the local store to a registry")
      .argument("<ref>", "image name (its registry part says where it goes)")
      .option("--insecure", "allow plain HTTP to this registry")
      .option("-q, --quiet", "print only the pushed manifest digest"),
    () => import("../actions/push.js"),
  );
  lazyAction(
    program
      .command("pull")
      .description("pull an image from a registry into the local store")
      .argument("<ref>", "image reference")
      .option("--platform <os/arch>", "platform to pull from a multi-platform image (default: the host's)")
      .option("--insecure", "allow plain HTTP to this registry")
      .option("-q, --quiet", "print only the image reference"),
    () => import("../actions/pull.js"),
  );
}
