package parse

import (
	"bytes"
	"strings"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// selCaptcha matches the captcha form and input of Amazon's robot check (served with status 200).
var selCaptcha = cascadia.MustCompile(`form[action*="validateCaptcha"], input#captchacharacters, img[src*="/captcha/"]`)

// robotPhrases are the visible sentences of a robot-check page, lower-cased, in the languages of
// the marketplaces.
var robotPhrases = []string{
	"enter the characters you see below",
	"type the characters you see in this image",
	"make sure you're not a robot",
	"make sure you’re not a robot",
	"robot check",
	"geben sie die unten angezeigten zeichen ein",
	"geben sie die zeichen unten ein",
	"introduce los caracteres que ves a continuación",
	"introduzca los caracteres que aparecen a continuación",
	"digite os caracteres que você vê abaixo",
	"saisissez les caractères que vous voyez ci-dessous",
	"inserisci i caratteri visualizzati",
	"voer de tekens in die u hieronder ziet",
	"下に表示されている文字を入力してください",
	"表示されている文字を入力してください",
	"请输入您在下方看到的字符",
}

// robotRawMarkers are found in the source of robot-check pages, comments included.
var robotRawMarkers = [][]byte{
	[]byte("api-services-support@amazon.com"),
	[]byte("/errors/validateCaptcha"),
}

// isRobotCheck reports whether a page is Amazon's robot check. The captcha form decides alone; the
// phrases and the support address in the source decide only on a page that shows no content of the
// kind expected (hasContent), so that a product whose description quotes them is not lost.
func isRobotCheck(root *html.Node, raw []byte, hasContent bool) bool {
	if first(root, selCaptcha) != nil {
		return true
	}
	if hasContent {
		return false
	}
	for _, m := range robotRawMarkers {
		if bytes.Contains(raw, m) {
			return true
		}
	}
	t := strings.ToLower(robotText(root))
	for _, p := range robotPhrases {
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}

// selRobotText are the elements a robot-check page writes its sentences in.
var selRobotText = cascadia.MustCompile(`title, h1, h2, h3, h4, p, label`)

// robotText joins the text of headings, paragraphs and the title.
func robotText(root *html.Node) string {
	var b strings.Builder
	for i, n := range all(root, selRobotText) {
		if i > 200 {
			break
		}
		b.WriteString(textOf(n))
		b.WriteByte('\n')
	}
	return b.String()
}

// noResultPhrases are what a search page says when nothing matched, lower-cased.
var noResultPhrases = []string{
	"no results for",
	"did not match any products",
	"no results found",
	"keine ergebnisse für",
	"keine ergebnisse gefunden",
	"no hay resultados para",
	"no se encontraron resultados",
	"nenhum resultado para",
	"nenhum resultado encontrado",
	"aucun résultat pour",
	"aucun résultat ne correspond",
	"nessun risultato per",
	"geen resultaten voor",
	"inga resultat för",
	"brak wyników dla",
	"için sonuç yok",
	"に一致する商品はありませんでした",
	"検索結果はありません",
	"没有找到",
}

// selNoResults are the places a search page puts its "no results" message.
var selNoResults = cascadia.MustCompile(`[data-component-type="s-messaging-widget-results-header"], ` +
	`[data-component-type="s-no-results"], .s-no-results, #noResultsTitle, .s-no-outline, ` +
	`#s-result-info-bar, [data-component-type="s-result-info-bar"], .s-main-slot, #search, #atfResults, #centerBelowMinus, #center`)

// saysNoResults reports whether a search page says that nothing matched.
func saysNoResults(root *html.Node) bool {
	for _, n := range all(root, selNoResults) {
		t := strings.ToLower(spacedTextOf(n))
		for _, p := range noResultPhrases {
			if strings.Contains(t, p) {
				return true
			}
		}
	}
	return false
}
