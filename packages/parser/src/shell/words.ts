// Word accumulation for the word-splitting mode of the shell lexer.

import { isGoSpace } from "../text/unicode.js";

/** Accumulates output words in the word-splitting mode. */
export class Words {
  buf = "";
  words: string[] = [];
  inWord = false;

  addChar(c: number, ch: string): void {
    if (isGoSpace(c)) {
      if (this.inWord && this.buf.length !== 0) {
        this.words.push(this.buf);
        this.buf = "";
        this.inWord = false;
      }
    } else this.addRaw(ch);
  }
  addRaw(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch.codePointAt(0) as number, ch);
  }
  finish(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = "";
      this.inWord = false;
    }
    return this.words;
  }
}
