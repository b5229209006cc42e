"""The text tests' references: google-research/albert's tokenization, written out here."""

import unicodedata

SPIECE_UNDERLINE = "\u2581"


def gr_preprocess(text):
    """google-research/albert `preprocess_text` (lower=True), written out here."""
    text = " ".join(text.strip().split())
    text = text.replace("``", '"').replace("''", '"')
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.lower()


def gr_encode_ids(processor, text):
    """google-research/albert `encode_ids` (with its digit-comma re-split)."""
    pieces = processor.encode(gr_preprocess(text), out_type=str)
    new_pieces = []
    for piece in pieces:
        if len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit():
            cur = processor.encode(piece[:-1].replace(SPIECE_UNDERLINE, ""), out_type=str)
            if piece[0] != SPIECE_UNDERLINE and cur[0][0] == SPIECE_UNDERLINE:
                if len(cur[0]) == 1:
                    cur = cur[1:]
                else:
                    cur[0] = cur[0][1:]
            cur.append(piece[-1])
            new_pieces.extend(cur)
        else:
            new_pieces.append(piece)
    return [processor.piece_to_id(p) for p in new_pieces]


def batched_ids(tokenizer, texts, batch=1024):
    out = []
    for i in range(0, len(texts), batch):
        out.extend(tokenizer.tokenize(texts[i : i + batch]).to_list())
    return out
