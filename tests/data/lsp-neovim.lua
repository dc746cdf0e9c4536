-- A scripted session in a real editor: Neovim's built-in LSP client (0.7, as Debian ships it)
-- runs `monitorc lsp` on the bundled example, a typo is typed into a host's `use` line, and
-- the first diagnostic Neovim holds for the buffer is written to $LSP_OUT as
-- `LINE<TAB>CODE<TAB>MESSAGE` (or `FAIL: why`). Run by tests/neovim.rs.
local out = os.getenv("LSP_OUT")
local function finish(text)
  local f = assert(io.open(out, "w"))
  f:write(text)
  f:close()
  vim.cmd("qall!")
end

vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("LSP_FILE")))
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({
  name = "monitorc",
  cmd = { os.getenv("MONITORC"), "lsp" },
  root_dir = os.getenv("LSP_ROOT"),
})
if not id then
  finish("FAIL: the client did not start")
end
vim.lsp.buf_attach_client(buf, id)

-- The typo, typed: `paris-site,` becomes `paris-sitee,` on the first line that has it.
for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
  local _, e = line:find("paris-site,", 1, true)
  if e then
    vim.api.nvim_buf_set_text(buf, i - 1, e - 1, i - 1, e - 1, { "e" })
    break
  end
end

local found = vim.wait(30000, function()
  return #vim.diagnostic.get(buf) > 0
end, 50)
if not found then
  finish("FAIL: no diagnostic within 30 s")
end
local d = vim.diagnostic.get(buf)[1]
local code = d.code
if code == nil and d.user_data and d.user_data.lsp then
  code = d.user_data.lsp.code
end
vim.lsp.stop_client(id)
finish(string.format("%d\t%s\t%s", d.lnum, tostring(code), d.message))
