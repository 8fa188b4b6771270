--[[
Quarto-compatible figure/table/section numbering, cross-references, callouts and source lines,
for INSIEna's pandoc fallback renderer (HTML and Typst). Under Quarto (which numbers and resolves
references itself) only the `.source` styling for Typst is applied.

Why a filter: pandoc reads `@fig-x` as a citation; left alone, Typst fails with "the document does
not contain a bibliography" and HTML shows the raw key. Quarto's own crossref filter does this job
when Quarto renders; this file reproduces the part of it that the report uses, so both renderers give
"Figura 1", "Tabella 2", "Sezione 3" with working links.
]]

local WORDS = {
  it = {fig = "Figura", tbl = "Tabella", sec = "Sezione", note = "Nota", tip = "Suggerimento",
        warning = "Avviso", important = "Importante", caution = "Attenzione"},
  en = {fig = "Figure", tbl = "Table", sec = "Section", note = "Note", tip = "Tip",
        warning = "Warning", important = "Important", caution = "Caution"},
}
local CALLOUT_KINDS = {note = true, tip = true, warning = true, important = true, caution = true}

local is_typst = FORMAT:match("typst") ~= nil

local function typst_string(s)
  return '"' .. s:gsub("\\", "\\\\"):gsub('"', '\\"') .. '"'
end

local function typst_markup(blocks)
  -- Inline content inside raw Typst (callout titles, link texts) must be written by pandoc's own
  -- Typst writer so that escaping stays pandoc's business.
  return pandoc.write(pandoc.Pandoc(blocks), "typst"):gsub("%s+$", "")
end

local function source_div(div)
  if is_typst and div.classes:includes("source") then
    local out = pandoc.Blocks({pandoc.RawBlock("typst", "#insiena-source[")})
    out:extend(div.content)
    out:insert(pandoc.RawBlock("typst", "]"))
    return out
  end
end

if quarto ~= nil then
  return {{Div = source_div}}
end

local function words_for(meta)
  local lang = meta.lang and pandoc.utils.stringify(meta.lang) or "it"
  return WORDS[(lang:match("^%a+") or "it"):lower()] or WORDS.it
end

local function truthy(value)
  if value == nil then return false end
  if type(value) == "boolean" then return value end
  return pandoc.utils.stringify(value) == "true"
end

-- Callouts: `::: {.callout-note}` with the title from `title="..."` or the first heading inside.
-- The heading is taken out here so that it is neither numbered nor listed in the table of contents.
local function callout(div, words)
  local kind
  for _, class in ipairs(div.classes) do
    local k = class:match("^callout%-(%a+)$")
    if k and CALLOUT_KINDS[k] then kind = k end
  end
  if not kind then return nil end
  local body = pandoc.Blocks(div.content)
  local title
  if div.attributes.title then
    title = pandoc.Inlines(div.attributes.title)
  elseif #body > 0 and body[1].t == "Header" then
    title = body[1].content
    body:remove(1)
  else
    title = pandoc.Inlines(words[kind])
  end
  return pandoc.Div({
    pandoc.Div({pandoc.Plain(title)}, pandoc.Attr("", {"callout-title"})),
    pandoc.Div(body, pandoc.Attr("", {"callout-body"})),
  }, pandoc.Attr(div.identifier, {"callout", "callout-" .. kind}, {kind = kind}))
end

local function typst_length(value)
  -- Typst accepts %, cm, mm, in, pt, em; pixels are converted at CSS's 96 per inch.
  if not value then return nil end
  local num, unit = value:match("^%s*([%d%.]+)%s*(%a*%%?)%s*$")
  if not num then return nil end
  if unit == "px" or unit == "" then return string.format("%gpt", tonumber(num) * 0.75) end
  if unit == "%" or unit == "cm" or unit == "mm" or unit == "in" or unit == "pt" or unit == "em" then
    return num .. unit
  end
  return nil
end

local function figure_image(img)
  -- Quarto's `fig-alt` is the alt text; without it the caption is (pandoc's default).
  local alt = img.attributes["fig-alt"]
  img.attributes["fig-alt"] = nil
  if not is_typst then
    if alt then img.caption = pandoc.Inlines(alt) end
    return img
  end
  -- pandoc's Typst writer drops alt text; write the call so that the tagged PDF carries it.
  local args = {typst_string(img.src)}
  local width, height = typst_length(img.attributes.width), typst_length(img.attributes.height)
  if width then table.insert(args, "width: " .. width) end
  if height then table.insert(args, "height: " .. height) end
  table.insert(args, "alt: " .. typst_string(alt or pandoc.utils.stringify(img.caption)))
  return pandoc.RawInline("typst", "#image(" .. table.concat(args, ", ") .. ")")
end

local function prefix_caption(caption, label)
  local text = pandoc.Inlines({pandoc.Span(pandoc.Str(label .. ":"), pandoc.Attr("", {"caption-label"})),
                               pandoc.Space()})
  if #caption.long > 0 and (caption.long[1].t == "Plain" or caption.long[1].t == "Para") then
    caption.long[1].content = text .. caption.long[1].content
  else
    caption.long:insert(1, pandoc.Plain(text))
  end
  return caption
end

local function unnumbered_typst(block)
  -- Typst numbers every figure; Quarto numbers only those labelled fig-/tbl-. Keep both equal.
  return {pandoc.RawBlock("typst", "#[#set figure(numbering: none)"), block,
          pandoc.RawBlock("typst", "]")}
end

local function kind_of(id)
  return id:match("^(%a+)%-")
end

local function full_width(tbl)
  -- Typst sizes columns to their content and centres the table, which leaves the left-aligned
  -- caption and source line hanging. Give the columns shares of the text width proportional to
  -- their longest cell (as the HTML does with `width: 100%`); explicit widths are kept.
  for _, spec in ipairs(tbl.colspecs) do
    if spec[2] ~= nil then return tbl end
  end
  local longest = {}
  for i = 1, #tbl.colspecs do longest[i] = 4 end
  local function measure(rows)
    for _, row in ipairs(rows) do
      local col = 1
      for _, cell in ipairs(row.cells) do
        local len = utf8.len(pandoc.utils.stringify(cell.contents)) or 0
        if cell.col_span == 1 and col <= #longest then
          longest[col] = math.max(longest[col], math.min(len, 45))
        end
        col = col + cell.col_span
      end
    end
  end
  measure(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do measure(body.body) end
  local total = 0
  for _, len in ipairs(longest) do total = total + len end
  for i, spec in ipairs(tbl.colspecs) do
    tbl.colspecs[i] = {spec[1], longest[i] / total}
  end
  return tbl
end

return {{
  Pandoc = function(doc)
    local words = words_for(doc.meta)
    local numbered = truthy(doc.meta["number-sections"])

    doc = doc:walk({Div = function(div) return callout(div, words) end})

    -- Quarto documents start sections at `##` (the title is `#`): shift so that the top level in
    -- use is 1, which gives "1", "1.1" (not "0.1") in both outputs and the same toc-depth meaning.
    local min_level = 6
    doc:walk({Header = function(h) if h.level < min_level then min_level = h.level end end})
    local shift = min_level - 1

    local labels = {}
    local counts = {fig = 0, tbl = 0}
    local sections = {0, 0, 0, 0, 0, 0}
    local function register(id, entry)
      if id == "" then return end
      if labels[id] then error("duplicate cross-reference label #" .. id) end
      labels[id] = entry
    end
    doc:walk({
      traverse = "topdown",
      Header = function(h)
        local level = h.level - shift
        local number
        if numbered and not h.classes:includes("unnumbered") then
          sections[level] = sections[level] + 1
          for i = level + 1, #sections do sections[i] = 0 end
          local parts = {}
          for i = 1, level do parts[i] = tostring(sections[i]) end
          number = table.concat(parts, ".")
        end
        if kind_of(h.identifier) == "sec" then
          register(h.identifier, {kind = "sec", number = number, title = h.content})
        end
      end,
      Figure = function(fig)
        if kind_of(fig.identifier) == "fig" then
          counts.fig = counts.fig + 1
          register(fig.identifier, {kind = "fig", number = tostring(counts.fig)})
        end
      end,
      Table = function(tbl)
        if kind_of(tbl.identifier) == "tbl" then
          counts.tbl = counts.tbl + 1
          register(tbl.identifier, {kind = "tbl", number = tostring(counts.tbl)})
        end
      end,
    })

    local function reference(citation)
      local id = citation.id:sub(1, 1):lower() .. citation.id:sub(2)
      local entry = labels[id]
      if not entry then
        error("unresolved cross-reference @" .. citation.id .. ": no figure, table or section has "
              .. "the label #" .. id)
      end
      local bare = citation.mode == "SuppressAuthor"
      if is_typst then
        if entry.kind == "sec" and not entry.number then
          return pandoc.RawInline("typst", "#link(label(" .. typst_string(id) .. "))["
                                  .. typst_markup({pandoc.Plain(entry.title)}) .. "]")
        end
        local args = "label(" .. typst_string(id) .. ")"
        if bare then args = args .. ", supplement: none" end
        return pandoc.RawInline("typst", "#{ref(" .. args .. ")}")
      end
      local text
      if entry.number == nil then
        text = entry.title
      elseif bare then
        text = pandoc.Inlines(entry.number)
      else
        text = pandoc.Inlines(words[entry.kind] .. "\u{a0}" .. entry.number)
      end
      return pandoc.Link(text, "#" .. id, "", pandoc.Attr("", {"quarto-xref"}))
    end

    doc = doc:walk({
      Header = function(h)
        h.level = h.level - shift
        return h
      end,
      Figure = function(fig)
        fig = fig:walk({Image = figure_image})
        local entry = labels[fig.identifier]
        if is_typst then
          if not entry then return unnumbered_typst(fig) end
        elseif entry then
          fig.caption = prefix_caption(fig.caption, words.fig .. "\u{a0}" .. entry.number)
        end
        return fig
      end,
      Table = function(tbl)
        local entry = labels[tbl.identifier]
        if is_typst then
          tbl = full_width(tbl)
          if not entry then return unnumbered_typst(tbl) end
        elseif entry then
          tbl.caption = prefix_caption(tbl.caption, words.tbl .. "\u{a0}" .. entry.number)
        end
        return tbl
      end,
      Cite = function(cite)
        for _, c in ipairs(cite.citations) do
          local k = kind_of(c.id:lower())
          if k ~= "fig" and k ~= "tbl" and k ~= "sec" then return nil end
        end
        local out = pandoc.Inlines({})
        for i, c in ipairs(cite.citations) do
          if i > 1 then out:extend({pandoc.Str(","), pandoc.Space()}) end
          out:insert(reference(c))
        end
        return out
      end,
    })

    if is_typst then
      doc = doc:walk({
        Div = function(div)
          if div.classes:includes("callout") then
            local title = typst_markup(div.content[1].content)
            local out = pandoc.Blocks({pandoc.RawBlock("typst", "#insiena-callout(kind: "
              .. typst_string(div.attributes.kind) .. ", title: [" .. title .. "])[")})
            out:extend(div.content[2].content)
            out:insert(pandoc.RawBlock("typst", "]"))
            return out
          end
          return source_div(div)
        end,
      })
    end
    return doc
  end,
}}
