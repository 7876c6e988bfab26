package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// maxComplexity is the most branches one function may hold. Past it, a function is
// one nobody can check by reading; the answer is a helper with a name, not a
// higher number.
const maxComplexity = 20

// TestComplexity: no production function of the module (every .go file but
// _test.go files, testdata and vendor, as `gocyclo -over 20 .` walks it) has a
// cyclomatic complexity over 20. There is no allow-list, and gocyclo's
// //gocyclo:ignore directive is not honoured: a function that needs more is split.
func TestComplexity(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, fn := range functions(f) {
			if c := complexity(fn.node); c > maxComplexity {
				pos := fset.Position(fn.node.Pos())
				rel, _ := filepath.Rel(root, pos.Filename)
				t.Errorf("%s:%d: %s %s has cyclomatic complexity %d, over %d", rel, pos.Line, f.Name.Name, fn.name, c, maxComplexity)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// skipDir is gocyclo's rule: testdata, vendor, and directories starting with . or _.
func skipDir(name string) bool {
	return name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

type function struct {
	name string
	node ast.Node // *ast.FuncDecl or *ast.FuncLit
}

// functions lists what gocyclo measures in a file: every function and method
// declaration, and every function literal assigned to a package-level variable.
func functions(f *ast.File) []function {
	var fns []function
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			fns = append(fns, function{funcName(d), d})
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok {
					continue
				}
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.FuncLit); ok {
						fns = append(fns, function{vs.Names[0].Name, lit})
					}
				}
			}
		}
	}
	return fns
}

// funcName names a function as gocyclo does: f, (T).m or (*T).m.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	typ := fn.Recv.List[0].Type
	star := false
	if s, ok := typ.(*ast.StarExpr); ok {
		typ, star = s.X, true
	}
	switch x := typ.(type) {
	case *ast.IndexExpr:
		typ = x.X
	case *ast.IndexListExpr:
		typ = x.X
	}
	name := fmt.Sprint(typ)
	if id, ok := typ.(*ast.Ident); ok {
		name = id.Name
	}
	if star {
		name = "*" + name
	}
	return "(" + name + ")." + fn.Name.Name
}

// complexity is gocyclo's count: one, plus one for each if, for and range, each
// case and select clause but the default, and each && and ||. Function literals
// count toward the function that holds them.
func complexity(fn ast.Node) int {
	c := 1
	ast.Inspect(fn, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if n.List != nil {
				c++
			}
		case *ast.CommClause:
			if n.Comm != nil {
				c++
			}
		case *ast.BinaryExpr:
			if n.Op == token.LAND || n.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}
