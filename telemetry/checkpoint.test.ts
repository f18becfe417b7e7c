// Tests of C2SP signed checkpoints: known vectors from golang.org/x/mod/sumdb/note (fixed keys,
// byte-exact signature line) and real sum.golang.org signed tree heads, round trips, foreign and
// tampered notes, and every kind of malformed note.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  NoteError,
  checkpointBody,
  ed25519Signer,
  ed25519Verifier,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  type Checkpoint,
  type NoteVerifier,
} from "./checkpoint.ts";
import { fromBase64, publicKeyOf, toBase64 } from "./keys.ts";
import { EMPTY_ROOT, leafHash, rootOf, toHex } from "./merkle.ts";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Key material of a Go sumdb note key (`[PRIVATE+KEY+]name+hash+base64(0x01 || key)`). */
function goKey(text: string): { name: string; keyId: string; key: Uint8Array } {
  // Like Go's chop: name and hash end at the first `+`; the base64 key may hold more.
  const [name, keyId, ...rest] = text.replace(/^PRIVATE\+KEY\+/, "").split("+");
  const encoded = rest.join("+");
  const bytes = fromBase64(encoded)!;
  expect(bytes[0]).toBe(0x01); // the Ed25519 signature type
  return { name, keyId, key: bytes.slice(1) };
}

function expectNoteError(run: () => unknown, code: NoteError["code"]): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(NoteError);
  expect((error as NoteError).code).toBe(code);
  expect((error as NoteError).message).toMatch(/^[a-z]/);
}

describe("known vectors from golang.org/x/mod/sumdb/note", () => {
  // note_test.go: TestSign / TestOpen keys and notes.
  const peterPrivate = goKey("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz");
  const peterPublic = goKey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  const enochPublic = goKey("EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop");
  const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  const peterSig = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
  const enochSig = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

  it("derives the key ids and public key Go prints", () => {
    const signer = ed25519Signer(peterPrivate.name, peterPrivate.key);
    expect(toHex(signer.keyId)).toBe("c74f20a3");
    expect(publicKeyOf(peterPrivate.key)).toEqual(peterPublic.key);
    expect(toHex(ed25519Verifier(enochPublic.name, enochPublic.key).keyId)).toBe("af0cfe78");
  });

  it("signs the note text to exactly Go's signature line", () => {
    const signer = ed25519Signer(peterPrivate.name, peterPrivate.key);
    const line = `— ${signer.name} ${toBase64(new Uint8Array([...signer.keyId, ...signer.sign(utf8(text))]))}\n`;
    expect(line).toBe(peterSig);
  });

  it("verifies both signatures of Go's note", () => {
    for (const [key, line] of [[peterPublic, peterSig], [enochPublic, enochSig]] as const) {
      const signature = fromBase64(line.split(" ")[2].trimEnd())!;
      const verifier = ed25519Verifier(key.name, key.key);
      expect(toHex(signature.subarray(0, 4))).toBe(key.keyId);
      expect(verifier.verify(utf8(text), signature.subarray(4))).toBe(true);
      expect(verifier.verify(utf8(text + "!"), signature.subarray(4))).toBe(false);
    }
  });

  it("refuses Go's malformed notes (its note text is no checkpoint, so every one is malformed here)", () => {
    const bad = [
      text,
      text + "\n",
      text + "\n" + peterSig.slice(0, -1),
      "\x01" + text + "\n" + peterSig,
      text + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
      text + "\n" + peterSig + "Unexpected line.\n",
      text + "\n" + peterSig.repeat(101),
    ];
    const verifier = ed25519Verifier(peterPublic.name, peterPublic.key);
    for (const note of bad) expectNoteError(() => openCheckpoint(note, verifier), "malformed");
  });
});

describe("real sum.golang.org signed tree heads", () => {
  // The Go checksum database's published verifier key and two of its tree heads.
  const sumdb = goKey("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8");
  const verifier = ed25519Verifier(sumdb.name, sumdb.key);
  const heads = [
    {
      note: "go.sum database tree\n31700353\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n\n— sum.golang.org Az3grnmrIUEDFqHzAElIQCPNoRFRAAdFo47fooyWKMHb89k11GJh5zHIfNCOBmwn/C3YI8oW9/C8DJ87F61QqspBYwM=\n",
      size: 31700353,
      root: "qINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=",
    },
    {
      note: "go.sum database tree\n65209736\n5+uGFjx6xBZG8ip1+wi77v+grwbhhukIrxEUS8PXvRo=\n\n— sum.golang.org Az3grnbssgK7ubgFX36gVETtNv0U23qxyAhAMai2QUfeGa3nB/akvkMdlUErfcZz7l/R3cVtYspg3dxXABkGZZKdsQ8=\n",
      size: 65209736,
      root: "5+uGFjx6xBZG8ip1+wi77v+grwbhhukIrxEUS8PXvRo=",
    },
  ];

  it("computes the published key id", () => expect(toHex(verifier.keyId)).toBe(sumdb.keyId));

  for (const head of heads) {
    it(`opens the tree head of size ${head.size}`, () => {
      const checkpoint = openCheckpoint(head.note, verifier);
      expect(checkpoint).toEqual({ origin: "go.sum database tree", size: head.size, root: fromBase64(head.root) });
      expectNoteError(() => openCheckpoint(head.note.replace(String(head.size), String(head.size + 1)), verifier), "bad_signature");
    });
  }
});

describe("round trips", () => {
  const seed = new Uint8Array(32).fill(7);
  const origin = "aegis.local/log/0123456789abcdef";
  const signer = ed25519Signer(origin, seed);
  const verifier = ed25519Verifier(origin, publicKeyOf(seed));
  const root = rootOf([leafHash(utf8("a")), leafHash(utf8("b")), leafHash(utf8("c"))]);

  it("writes the documented note layout and opens it again", () => {
    const cp: Checkpoint = { origin, size: 3, root };
    const note = signCheckpoint(cp, signer);
    expect(checkpointBody(cp)).toBe(`${origin}\n3\n${toBase64(root)}\n`);
    expect(note).toMatch(new RegExp(`^${origin}\\n3\\n${toBase64(root).replace(/[+/]/g, "\\$&")}\\n\\n\u2014 ${origin} [A-Za-z0-9+/]{91}=\\n$`));
    expect(openCheckpoint(note, verifier)).toEqual(cp);
    const parsed = parseCheckpoint(note);
    expect(parsed.checkpoint).toEqual(cp);
    expect(parsed.signatures).toHaveLength(1);
    expect(parsed.signatures[0].name).toBe(origin);
    expect(parsed.signatures[0].keyId).toEqual(signer.keyId);
    expect(parsed.signatures[0].signature).toHaveLength(64);
  });

  it("round-trips the empty tree, extension lines and any origin without spaces", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", minLength: 1 }).filter((s) => !/[\u0000-\u001f]/.test(s)),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fc.string({ unit: "binary", minLength: 1 }).filter((s) => !/[\u0000-\u001f]/.test(s)), { maxLength: 3 }),
        (anyOrigin, size, anyRoot, extensions) => {
          const cp: Checkpoint = extensions.length > 0 ? { origin: anyOrigin, size, root: anyRoot, extensions } : { origin: anyOrigin, size, root: anyRoot };
          expect(openCheckpoint(signCheckpoint(cp, signer), verifier)).toEqual(cp);
        },
      ),
      { numRuns: 25 },
    );
    const empty: Checkpoint = { origin, size: 0, root: EMPTY_ROOT };
    expect(openCheckpoint(signCheckpoint(empty, signer), verifier)).toEqual(empty);
  });

  it("rejects a note from another key, or from the same key under another name", () => {
    const note = signCheckpoint({ origin, size: 3, root }, signer);
    const otherKey = ed25519Verifier(origin, publicKeyOf(new Uint8Array(32).fill(8)));
    expectNoteError(() => openCheckpoint(note, otherKey), "unknown_key");
    const otherName = ed25519Verifier("example.com/other", publicKeyOf(seed));
    expectNoteError(() => openCheckpoint(note, otherName), "unknown_key");
    // Same name and key id, but a different key: the signature is checked and fails.
    const impostor: NoteVerifier = { name: origin, keyId: signer.keyId, verify: otherKey.verify };
    expectNoteError(() => openCheckpoint(note, impostor), "bad_signature");
  });

  it("rejects a tampered origin, size, root or extension", () => {
    const cp: Checkpoint = { origin, size: 1234, root, extensions: ["ext"] };
    const note = signCheckpoint(cp, signer);
    const tampered = [
      note.replace(origin, origin + "x"),
      note.replace("\n1234\n", "\n1235\n"),
      note.replace(toBase64(root), toBase64(EMPTY_ROOT)),
      note.replace("\next\n", "\nexu\n"),
      note.replace("\next\n", "\n"),
    ];
    for (const t of tampered) expectNoteError(() => openCheckpoint(t, verifier), "bad_signature");
  });

  it("ignores signatures by other keys, and keeps rejecting a bad one by ours", () => {
    const cp: Checkpoint = { origin, size: 3, root };
    const note = signCheckpoint(cp, signer);
    const witness = ed25519Signer("witness.example/w1", new Uint8Array(32).fill(9));
    const cosigned = note + signCheckpoint(cp, witness).split("\n\n")[1];
    expect(openCheckpoint(cosigned, verifier)).toEqual(cp);
    expect(openCheckpoint(cosigned, ed25519Verifier(witness.name, publicKeyOf(new Uint8Array(32).fill(9))))).toEqual(cp);
    expect(parseCheckpoint(cosigned).signatures.map((s) => s.name)).toEqual([origin, "witness.example/w1"]);
    // A foreign line with our name but another key id is someone else's: ignored.
    const foreign = `— ${origin} ${toBase64(new Uint8Array(68).fill(1))}\n`;
    expect(openCheckpoint(note + foreign, verifier)).toEqual(cp);
    // A corrupted signature under our name and key id spoils the note, even beside a good one.
    const line = note.split("\n\n")[1];
    const corrupted = line.slice(0, 40) + (line[40] === "A" ? "B" : "A") + line.slice(41);
    expectNoteError(() => openCheckpoint(note + corrupted, verifier), "bad_signature");
    expectNoteError(() => openCheckpoint(note.split("\n\n")[0] + "\n\n" + foreign, verifier), "unknown_key");
  });
});

describe("malformed notes", () => {
  const seed = new Uint8Array(32).fill(3);
  const name = "example.com/log";
  const signer = ed25519Signer(name, seed);
  const verifier = ed25519Verifier(name, publicKeyOf(seed));
  const root = toBase64(new Uint8Array(32).fill(5));
  const sigLine = signCheckpoint({ origin: name, size: 10, root: new Uint8Array(32).fill(5) }, signer).split("\n\n")[1];
  const good = `${name}\n10\n${root}\n\n${sigLine}`;

  it("the unmodified note opens", () => expect(openCheckpoint(good, verifier).size).toBe(10));

  const cases: [string, string][] = [
    ["no blank line before the signatures", good.replace("\n\n", "\n")],
    ["no signature lines", `${name}\n10\n${root}\n\n`],
    ["no final newline", good.slice(0, -1)],
    ["trailing garbage after the signatures", good + "garbage\n"],
    ["a signature line with a hyphen instead of an em dash", good.replace("\u2014", "-")],
    ["a signature line with no space after the em dash", good.replace("\u2014 ", "\u2014")],
    ["a signature that is not base64", good.replace(/ [A-Za-z0-9+/]+=\n$/, " not*base64=\n")],
    ["a signature of fewer than 5 bytes", good.replace(/ [A-Za-z0-9+/]+=\n$/, " AAAAAA==\n")],
    ["a signature with no text", good.replace(/ [A-Za-z0-9+/]+=\n$/, " \n")],
    ["a key name with a plus", good.replace(`\u2014 ${name} `, `\u2014 a+b `)],
    ["a key name with a no-break space", good.replace(`\u2014 ${name} `, `\u2014 a\u00a0b `)],
    ["an empty key name", good.replace(`\u2014 ${name} `, `\u2014  `)],
    ["more than 100 signatures", good + sigLine.repeat(100)],
    ["size with a leading zero", good.replace("\n10\n", "\n010\n")],
    ["size with a sign", good.replace("\n10\n", "\n+10\n")],
    ["negative size", good.replace("\n10\n", "\n-10\n")],
    ["size with a space", good.replace("\n10\n", "\n 10\n")],
    ["fractional size", good.replace("\n10\n", "\n10.0\n")],
    ["hexadecimal size", good.replace("\n10\n", "\n0xa\n")],
    ["size beyond 2^53 - 1", good.replace("\n10\n", "\n9007199254740992\n")],
    ["root that is not base64", good.replace(root, "not base64!")],
    ["root without padding", good.replace(root, root.replace(/=$/, ""))],
    ["root of 31 bytes", good.replace(root, toBase64(new Uint8Array(31)))],
    ["root of 33 bytes", good.replace(root, toBase64(new Uint8Array(33)))],
    ["an empty origin", good.replace(`${name}\n10\n`, "\n10\n")],
    ["only two body lines", `${name}\n10\n\n${sigLine}`],
    ["an empty extension line", `${name}\n10\n${root}\n\next\n\n${sigLine}`],
    ["a carriage return", good.replace("\n10\n", "\n10\r\n")],
    ["a tab", good.replace(name, name + "\t")],
    ["a NUL", good.replace(name, name + "\0")],
    ["a lone high surrogate", good.replace(name, name + "\ud800")],
    ["a lone low surrogate", good.replace(`${name}\n10`, `\udc00${name}\n10`)],
  ];
  for (const [what, note] of cases) {
    it(`refuses ${what}`, () => {
      expectNoteError(() => openCheckpoint(note, verifier), "malformed");
      expectNoteError(() => parseCheckpoint(note), "malformed");
    });
  }

  it("refuses what is not a string", () => {
    expectNoteError(() => parseCheckpoint(42 as unknown as string), "malformed");
  });

  it("never throws anything but NoteError for arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("\n", "\u2014", " ", "a", "=", "A", "0", "1", "+", "/", "\u0001") }), (junk) => {
        for (const note of [junk, good.slice(0, good.length / 2) + junk, junk + good]) {
          try {
            openCheckpoint(note, verifier);
          } catch (e) {
            expect(e).toBeInstanceOf(NoteError);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe("building checkpoints and keys", () => {
  const root = new Uint8Array(32);
  const bad: [string, Checkpoint][] = [
    ["an empty origin", { origin: "", size: 1, root }],
    ["a two-line origin", { origin: "a\nb", size: 1, root }],
    ["an origin with a control character", { origin: "a\u0007", size: 1, root }],
    ["a negative size", { origin: "o", size: -1, root }],
    ["a fractional size", { origin: "o", size: 1.5, root }],
    ["a size beyond 2^53 - 1", { origin: "o", size: 2 ** 53, root }],
    ["a short root", { origin: "o", size: 1, root: new Uint8Array(31) }],
    ["an empty extension", { origin: "o", size: 1, root, extensions: [""] }],
    ["a two-line extension", { origin: "o", size: 1, root, extensions: ["a\nb"] }],
  ];
  for (const [what, cp] of bad) {
    it(`checkpointBody refuses ${what}`, () => expectNoteError(() => checkpointBody(cp), "malformed"));
  }

  it("refuses bad key names and key sizes", () => {
    for (const name of ["", "a b", "a+b", "a\u2003b", "a\nb"]) {
      expect(() => ed25519Signer(name, new Uint8Array(32))).toThrow(RangeError);
      expect(() => ed25519Verifier(name, new Uint8Array(32))).toThrow(RangeError);
    }
    expect(() => ed25519Signer("ok", new Uint8Array(31))).toThrow(RangeError);
    expect(() => ed25519Verifier("ok", new Uint8Array(33))).toThrow(RangeError);
  });

  it("a verifier's verify never throws", () => {
    const verifier = ed25519Verifier("ok", publicKeyOf(new Uint8Array(32)));
    expect(verifier.verify(utf8("x"), new Uint8Array(3))).toBe(false);
    expect(verifier.verify(null as unknown as Uint8Array, new Uint8Array(64))).toBe(false);
  });
});
